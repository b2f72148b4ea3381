"""Credential documents: their canonical form and their hash.

A document is what a department issues and a verifier checks. Its hash is the leaf anchored
on chain, so the canonical encoding must never change for a given ``version``: sorted keys,
no whitespace, UTF-8 (Chinese text is kept as is, not \\u-escaped).
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from typing import Any

from eth_utils.crypto import keccak

from vault.errors import VaultValueError
from vault.ids import Hash32

DOCUMENT_VERSION = 1
RECORD_TYPES = ("licence", "certificate", "data")
_DOMAIN = b"datavault:credential:v1\x00"
MAX_FIELDS_BYTES = 64 * 1024


def canonical_json(value: Any) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def credential_hash(document: dict[str, Any]) -> Hash32:
    # A domain prefix keeps a document hash from ever equalling an inner Merkle node.
    return Hash32("0x" + keccak(_DOMAIN + canonical_json(document)).hex())


@dataclass(frozen=True)
class DocumentSpec:
    """What an issuer supplies; the vault adds who, whom, when and the salt."""

    type: str
    title: str
    fields: dict[str, Any]
    valid_from: int
    valid_until: int


def check_spec(spec: DocumentSpec) -> None:
    if spec.type not in RECORD_TYPES:
        raise VaultValueError(f"record type must be one of {', '.join(RECORD_TYPES)}", field="type")
    if not spec.title.strip() or len(spec.title) > 200:
        raise VaultValueError("title must be 1-200 characters", field="title")
    if not isinstance(spec.fields, dict) or not spec.fields:
        raise VaultValueError("fields must be a non-empty object", field="fields")
    if len(canonical_json(spec.fields)) > MAX_FIELDS_BYTES:
        raise VaultValueError(f"fields exceed {MAX_FIELDS_BYTES} bytes", field="fields")
    if spec.valid_from < 0 or spec.valid_until <= spec.valid_from:
        raise VaultValueError("valid_until must be later than valid_from", field="valid_until")
    if spec.valid_until >= 2**40:
        raise VaultValueError("valid_until is too far in the future", field="valid_until")


def build_document(
    spec: DocumentSpec,
    *,
    subject_id: str,
    issuer_code: str,
    issuer_address: str,
    record_id: str,
    record_version: int,
    issued_at: int,
) -> dict[str, Any]:
    check_spec(spec)
    return {
        "version": DOCUMENT_VERSION,
        "type": spec.type,
        "title": spec.title,
        "subject": subject_id,
        "issuer": {"code": issuer_code, "address": issuer_address},
        "record": {"id": record_id, "version": record_version},
        "issued_at": issued_at,
        "valid_from": spec.valid_from,
        "valid_until": spec.valid_until,
        "fields": spec.fields,
        # The salt stops anyone from confirming a guessed document against the public hash.
        "salt": secrets.token_hex(16),
    }


def parse_document(document: Any) -> dict[str, Any]:
    """Check the shape of a presented document before it is hashed and looked up."""
    if not isinstance(document, dict):
        raise VaultValueError("document must be a JSON object", field="document")
    required = {"version", "type", "subject", "issuer", "valid_from", "valid_until", "fields", "salt"}
    missing = sorted(required - document.keys())
    if missing:
        raise VaultValueError(f"document lacks {', '.join(missing)}", field="document")
    if document["version"] != DOCUMENT_VERSION:
        raise VaultValueError(f"unsupported document version {document['version']!r}", field="document")
    issuer = document["issuer"]
    if not isinstance(issuer, dict) or not isinstance(issuer.get("address"), str):
        raise VaultValueError("document issuer must name an address", field="document")
    for key in ("valid_from", "valid_until"):
        if not isinstance(document[key], int) or isinstance(document[key], bool):
            raise VaultValueError(f"document {key} must be an integer", field="document")
    return document
