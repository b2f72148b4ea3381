"""Credential documents: their canonical form and their hash.

A document is what a department issues and a verifier checks. Its hash is the leaf anchored
on chain, so the encoding must never change for a given ``version``: sorted keys, no
whitespace, UTF-8 (Chinese text is kept as is, not \\u-escaped).

- Version 1 hashes the whole document with one salt: shown whole or not at all.
- Version 2 (issued from now on) commits every field separately (``vault.credentials.commitments``): the
  credential hash is the Merkle root of the field commitments and the header, so a holder can
  show some fields and a verifier can still check them against the anchored root.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

from eth_utils.crypto import keccak
from eth_utils.hexadecimal import encode_hex

from vault.credentials import commitments, licence_fields
from vault.credentials.commitments import canonical_json
from vault.credentials.header import CredentialHeader
from vault.errors import VaultValueError
from vault.ids import Hash32
from vault.record_types import RECORD_TYPES

DOCUMENT_VERSION = 2
VERSIONS = (1, 2)
_DOMAIN_V1 = b"datavault:credential:v1\x00"
MAX_FIELDS_BYTES = 64 * 1024
MAX_FIELDS = commitments.MAX_LEAVES - 1
# Levels of objects and lists in a record's fields, the fields object itself being the first.
MAX_FIELDS_DEPTH = 32
_V2_KEYS = frozenset(
    {
        "version",
        "type",
        "title",
        "subject",
        "holder",
        "issuer",
        "record",
        "issued_at",
        "valid_from",
        "valid_until",
        "status_index",
        "fields",
        "salts",
        "decoys",
    }
)


def credential_hash(document: dict[str, Any]) -> Hash32:
    if document.get("version") == 1:
        # A domain prefix keeps a document hash from ever equalling an inner Merkle node.
        return Hash32(encode_hex(keccak(_DOMAIN_V1 + canonical_json(document))))
    return Hash32(encode_hex(commitments.root(leaves(document))))


def leaves(document: dict[str, Any]) -> list[bytes]:
    """A version 2 document's leaves in tree order: header, fields and decoys, sorted by hash."""
    salts = document["salts"]
    found = [CredentialHeader.from_document(document).leaf(bytes.fromhex(salts[commitments.HEADER_NAME]))]
    for name, value in document["fields"].items():
        found.append(commitments.field_leaf(name, value, bytes.fromhex(salts[name])))
    found.extend(bytes.fromhex(d) for d in document["decoys"])
    return sorted(found)


@dataclass(frozen=True)
class DocumentSpec:
    """What an issuer supplies; the vault adds who, whom, when and the salts."""

    type: str
    title: str
    fields: dict[str, Any]
    valid_from: int
    valid_until: int


def check_spec(spec: DocumentSpec) -> None:
    if spec.type not in RECORD_TYPES:
        raise VaultValueError(f"record type must be one of {', '.join(RECORD_TYPES)}", field="type")
    licence_fields.check_fields(spec.fields, spec.type)
    if not spec.title.strip() or len(spec.title) > 200:
        raise VaultValueError("title must be 1-200 characters", field="title")
    if not isinstance(spec.fields, dict) or not spec.fields:
        raise VaultValueError("fields must be a non-empty object", field="fields")
    if len(spec.fields) > MAX_FIELDS:
        raise VaultValueError(f"at most {MAX_FIELDS} fields", field="fields")
    for name in spec.fields:
        if not name or name.startswith("@") or len(name) > 100:
            raise VaultValueError(
                f"field names are 1-100 characters and do not start with '@': {name[:20]!r}", field="fields"
            )
    # Only what hashes the same everywhere, forever, in nesting a person can read (a deep value
    # also costs every verifier a deep recursion).
    problem = commitments.json_value_problem(spec.fields, MAX_FIELDS_DEPTH)
    if problem is not None:
        raise VaultValueError(f"fields: {problem}", field="fields")
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
    holder: str,
    issuer_code: str,
    issuer_address: str,
    record_id: str,
    record_version: int,
    issued_at: int,
    status_index: int,
) -> dict[str, Any]:
    """A version 2 document. ``holder``: the subject's key, which signs presentations of it;
    ``status_index``: its bit in the revocation bitmap of offline status snapshots."""
    check_spec(spec)
    names = [commitments.HEADER_NAME, *spec.fields]
    decoys = commitments.leaf_count_for(len(names)) - len(names)
    return {
        "version": DOCUMENT_VERSION,
        "type": spec.type,
        "title": spec.title,
        "subject": subject_id,
        "holder": holder,
        "issuer": {"code": issuer_code, "address": issuer_address},
        "record": {"id": record_id, "version": record_version},
        "issued_at": issued_at,
        "valid_from": spec.valid_from,
        "valid_until": spec.valid_until,
        "status_index": status_index,
        "fields": spec.fields,
        # A salt per commitment: a hidden field cannot be confirmed by hashing a guess.
        "salts": {name: secrets.token_hex(commitments.SALT_LEN) for name in names},
        "decoys": [secrets.token_hex(commitments.HASH_LEN) for _ in range(decoys)],
    }


def parse_document(document: Any) -> dict[str, Any]:
    """Check the shape of a presented document before it is hashed and looked up."""
    if not isinstance(document, dict):
        raise VaultValueError("document must be a JSON object", field="document")
    required = {"version", "type", "subject", "issuer", "valid_from", "valid_until", "fields"}
    version = document.get("version")
    if version in VERSIONS:
        required |= (
            {"salt"} if version == 1 else {"salts", "decoys", "holder", "record", "issued_at", "status_index", "title"}
        )
    missing = sorted(required - document.keys())
    if missing:
        raise VaultValueError(f"document lacks {', '.join(missing)}", field="document")
    if version not in VERSIONS:
        raise VaultValueError(f"unsupported document version {version!r}", field="document")
    # Version 2 hashes only what it commits to: a key added beside them would ride along
    # unverified, so it is refused rather than ignored. (Version 1 hashes every key.)
    added = sorted(map(str, document.keys() - _V2_KEYS)) if version == 2 else []
    if added:
        raise VaultValueError(f"document has keys its issuer did not write: {', '.join(added)}", field="document")
    issuer = document["issuer"]
    if not isinstance(issuer, dict) or not isinstance(issuer.get("address"), str):
        raise VaultValueError("document issuer must name an address", field="document")
    for key in ("valid_from", "valid_until"):
        if not isinstance(document[key], int) or isinstance(document[key], bool):
            raise VaultValueError(f"document {key} must be an integer", field="document")
    if version == 2:
        _check_v2(document)
    return document


def _check_v2(document: dict[str, Any]) -> None:
    fields, salts, decoys = document["fields"], document["salts"], document["decoys"]
    if not isinstance(fields, dict) or not isinstance(salts, dict) or not isinstance(decoys, list):
        raise VaultValueError(
            "document fields, salts and decoys must be an object, an object and a list", field="document"
        )
    if set(salts) != {commitments.HEADER_NAME, *fields}:
        raise VaultValueError("document salts must name the header and every field", field="document")
    if not all(isinstance(s, str) and _is_hex(s, commitments.SALT_LEN) for s in salts.values()):
        raise VaultValueError(f"document salts must be {commitments.SALT_LEN} bytes of hex", field="document")
    if not all(isinstance(d, str) and _is_hex(d, commitments.HASH_LEN) for d in decoys):
        raise VaultValueError(f"document decoys must be {commitments.HASH_LEN} bytes of hex", field="document")
    if commitments.leaf_count_for(len(salts)) != len(salts) + len(decoys):
        raise VaultValueError("document decoys do not pad its commitments to a power of two", field="document")
    for key, names in (("issuer", {"code", "address"}), ("record", {"id", "version"})):
        if not isinstance(document[key], dict) or document[key].keys() != names:
            raise VaultValueError(f"document {key} must hold exactly {' and '.join(sorted(names))}", field="document")
    CredentialHeader.from_document(document)  # raises on a malformed header


def _is_hex(text: str, size: int) -> bool:
    try:
        return len(bytes.fromhex(text)) == size
    except ValueError:
        return False
