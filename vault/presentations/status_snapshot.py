"""A signed status snapshot: what a verifier without network needs to check presentations.

It holds the revocation bitmap (``vault.credentials.status_bitmap``), every department the vault knows
with its roles and whether it is active as the chain says, and the subjects' replaced signing
keys. The registry's governance admin signs it: the registry names its admin on chain
(``admin()``), so a verifier that was ever online pins that address and then trusts snapshots
carried to it by any means. It is told the snapshot's age and decides what is too old.

Signed as EIP-712 under the ``CredentialDomain`` (a snapshot of one deployment is worthless on
another): ``StatusSnapshot(uint40 createdAt, uint64 size, bytes32 bitmap, bytes32 issuers,
bytes32 replacedKeys)``, each bytes32 the keccak256 of a canonical encoding:
  bitmap        the bitmap bytes: exactly ceil(size / 8), the bits past size zero
  issuers       sorted by address, 86 bytes each: address (20) || roles (1, the chain's uint8)
                || active (1: 0 or 1) || keccak256(UTF-8 code) || keccak256(UTF-8 name)
  replacedKeys  the 20-byte addresses, sorted (an empty list hashes the empty string)
On the wire (``encode``) it is compact UTF-8 JSON; the bitmap is zlib then base64url without
padding, like W3C's ``encodedList``. Measured: 1,000,000 indexes with 1% revoked at random and
20 issuers encode to 21.5 KB, 18.6 KB of it the bitmap (raw: 125,000 bytes); see the test.
"""

from __future__ import annotations

import bisect
import json
import re
from dataclasses import dataclass, replace
from typing import Any

import pydantic_core
from eth_account.messages import encode_typed_data
from eth_account.signers.local import LocalAccount
from eth_hash.auto import keccak
from eth_utils.address import to_checksum_address
from eth_utils.hexadecimal import decode_hex, encode_hex
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from chain.consent import DOMAIN_TYPE
from keys import SignatureError, recover_typed_data
from vault.context import VaultContext
from vault.credentials import status_bitmap, status_list
from vault.db.models import Department, ReplacedSubjectKey
from vault.errors import ChainStateError, VaultValueError
from vault.presentations.issuer_signatures import credential_domain
from vault.presentations.model import CredentialDomain

SNAPSHOT_TYPE = [
    {"name": n, "type": t}
    for n, t in (
        ("createdAt", "uint40"),
        ("size", "uint64"),
        ("bitmap", "bytes32"),
        ("issuers", "bytes32"),
        ("replacedKeys", "bytes32"),
    )
]
KIND = "datavault-status-snapshot"
VERSION = 1
# Far above any real snapshot (21.5 KB for a million credentials), far below what would hurt.
MAX_TEXT = 32 * 1024 * 1024
_ADDRESS = re.compile(r"0x[0-9a-fA-F]{40}")
_KEYS = {"type", "version", "domain", "created_at", "size", "bitmap", "issuers", "replaced_keys", "signer", "signature"}


class SnapshotError(VaultValueError):
    """A snapshot that cannot be trusted or read; ``reason`` says why, ``field`` where."""


@dataclass(frozen=True)
class SnapshotIssuer:
    address: str  # checksum
    code: str
    name: str
    roles: int  # the chain's role bits (vault.accounts.departments.Role); ISSUER = 1
    active: bool


@dataclass(frozen=True)
class StatusSnapshot:
    domain: CredentialDomain
    created_at: int
    issuers: tuple[SnapshotIssuer, ...]  # sorted by address
    size: int  # status indexes handed out: the bitmap's length in bits
    bitmap: bytes
    replaced_keys: tuple[str, ...]  # lowercase 0x addresses, sorted
    signer: str  # checksum
    signature: bytes  # 65 bytes

    def revoked(self, index: int) -> bool | None:
        """None: handed out after the snapshot, the caller decides (go online, refuse)."""
        if index < 0:
            raise ValueError(f"status indexes are not negative: {index}")
        return status_bitmap.is_set(self.bitmap, index) if index < self.size else None

    def revoked_count(self) -> int:
        return status_bitmap.count(self.bitmap)

    def issuer(self, address: str) -> SnapshotIssuer | None:
        return next((i for i in self.issuers if i.address.lower() == address.lower()), None)

    def key_replaced(self, address: str) -> bool:
        wanted = address.lower()
        at = bisect.bisect_left(self.replaced_keys, wanted)
        return at < len(self.replaced_keys) and self.replaced_keys[at] == wanted

    def age(self, now: int) -> int:
        """Seconds since it was made; negative if ``now`` is before that (clocks disagree)."""
        return now - self.created_at


def typed_data(s: StatusSnapshot) -> dict[str, Any]:
    """What the admin signs (eth_signTypedData_v4); ``signer`` and ``signature`` are not in it."""
    issuers = b"".join(
        decode_hex(i.address) + bytes([i.roles, int(i.active)]) + keccak(i.code.encode()) + keccak(i.name.encode())
        for i in sorted(s.issuers, key=lambda i: i.address.lower())
    )
    replaced = b"".join(decode_hex(k) for k in sorted(k.lower() for k in s.replaced_keys))
    return {
        "types": {"EIP712Domain": DOMAIN_TYPE, "StatusSnapshot": SNAPSHOT_TYPE},
        "primaryType": "StatusSnapshot",
        "domain": s.domain.as_dict(),
        "message": {
            "createdAt": s.created_at,
            "size": s.size,
            "bitmap": keccak(s.bitmap),
            "issuers": keccak(issuers),
            "replacedKeys": keccak(replaced),
        },
    }


async def registry_signer(ctx: VaultContext) -> LocalAccount:
    """The operator's account, once the registry confirms it is still its admin: verifiers pin
    ``admin()``, so status (this snapshot, the status lists) signed by anyone else would be
    refused everywhere."""
    chain, operator = ctx.chain, ctx.chain.operator
    admin = await chain.call(chain.client.admin)
    if admin.lower() != operator.address.lower():
        raise ChainStateError(f"the registry's admin is {admin}, not the vault's operator {operator.address}")
    return operator


async def build(ctx: VaultContext, session: AsyncSession, now: int) -> StatusSnapshot:
    """The snapshot as of ``now``, signed by the registry's admin (the vault's operator)."""
    chain = ctx.chain
    operator = await registry_signer(ctx)
    issuers = []
    for row in (await session.scalars(select(Department))).all():
        info = await chain.call(chain.client.department, row.chain_address)
        if info is None:
            continue  # not registered on chain yet: it has anchored nothing anyone could show
        code = info.code.rstrip(b"\0").decode("utf-8", "replace")
        # The chain decides; a deactivation still on its way there counts already (deny wins).
        issuers.append(
            SnapshotIssuer(
                to_checksum_address(row.chain_address), code, row.name, int(info.roles), info.active and row.active
            )
        )
    size, bitmap = await status_list.bitmap(session)
    replaced = await session.scalars(select(ReplacedSubjectKey.address))
    unsigned = StatusSnapshot(
        domain=await chain.call(credential_domain, ctx),
        created_at=now,
        issuers=tuple(sorted(issuers, key=lambda i: i.address.lower())),
        size=size,
        bitmap=bitmap,
        replaced_keys=tuple(sorted({a.lower() for a in replaced})),
        signer=operator.address,
        signature=b"",
    )
    signed = operator.sign_message(encode_typed_data(full_message=typed_data(unsigned)))
    return replace(unsigned, signature=bytes(signed.signature))


def encode(s: StatusSnapshot) -> str:
    return json.dumps(
        {
            "type": KIND,
            "version": VERSION,
            "domain": {"chain_id": s.domain.chain_id, "registry": s.domain.registry},
            "created_at": s.created_at,
            "size": s.size,
            "bitmap": status_bitmap.compress(s.bitmap),
            "issuers": [
                {"address": i.address, "code": i.code, "name": i.name, "roles": i.roles, "active": i.active}
                for i in s.issuers
            ],
            "replaced_keys": list(s.replaced_keys),
            "signer": s.signer,
            "signature": encode_hex(s.signature),
        },
        ensure_ascii=False,
        separators=(",", ":"),
    )


def decode(text: str, *, trusted_signer: str | None = None) -> StatusSnapshot:
    """The snapshot ``text`` holds, once its signature is checked (and its signer is
    ``trusted_signer``, when given). SnapshotError for anything else, never another error."""
    if trusted_signer is not None and not (isinstance(trusted_signer, str) and _ADDRESS.fullmatch(trusted_signer)):
        raise SnapshotError("the trusted signer must be an address (0x and 40 hex digits)", field="trusted_signer")
    s = _parse(text)
    try:
        recovered = recover_typed_data(typed_data(s), encode_hex(s.signature))
    except SignatureError:
        recovered = None
    if recovered is None or recovered.lower() != s.signer.lower():
        raise SnapshotError("the snapshot's signature does not match its contents", field="signature")
    if trusted_signer is not None and trusted_signer.lower() != s.signer.lower():
        raise SnapshotError(
            f"the snapshot is signed by {s.signer}, not by the trusted {to_checksum_address(trusted_signer)}",
            field="signer",
        )
    return s


def _parse(text: str) -> StatusSnapshot:
    if not isinstance(text, str) or len(text) > MAX_TEXT:
        raise SnapshotError(f"not a status snapshot: expected JSON text of at most {MAX_TEXT} characters")
    try:
        # Not json.loads: py_ecc (under eth_account) lifts the recursion limit to 100,000, and
        # the stdlib parser then overflows the C stack on "[[[[...". This one stops at depth
        # 200 and refuses lone surrogates ("\ud800"), so every string in it is valid UTF-8.
        doc = pydantic_core.from_json(text.encode())
    except ValueError:  # UnicodeEncodeError too: a lone surrogate in the text itself
        raise SnapshotError("not a status snapshot: not JSON in UTF-8") from None
    if not isinstance(doc, dict) or doc.get("type") != KIND:
        raise SnapshotError("not a status snapshot", field="type")
    if doc.get("version") != VERSION or type(doc.get("version")) is not int:
        raise SnapshotError(f"not a status snapshot of a version this verifier reads ({VERSION})", field="version")
    _exact(doc, _KEYS, "")
    domain = _exact(_object(doc["domain"], "domain"), {"chain_id", "registry"}, "domain")
    size = _int(doc["size"], "size", 64)
    try:
        bitmap = status_bitmap.decompress(_str(doc["bitmap"], "bitmap", MAX_TEXT), size)
    except status_bitmap.BitmapError as exc:
        raise SnapshotError(f"not a status snapshot: {exc}", field="bitmap") from None
    _check(
        isinstance(doc["replaced_keys"], list) and isinstance(doc["issuers"], list),
        "replaced_keys and issuers",
        "lists",
    )
    replaced = [_address(k, "replaced_keys").lower() for k in doc["replaced_keys"]]
    issuers = [_issuer(_object(i, "issuers")) for i in doc["issuers"]]
    if len(set(replaced)) != len(replaced) or len({i.address for i in issuers}) != len(issuers):
        raise SnapshotError("not a status snapshot: an issuer or a replaced key is listed twice")
    signature = _str(doc["signature"], "signature", 132)
    _check(re.fullmatch(r"0x[0-9a-fA-F]{130}", signature) is not None, "signature", "0x and 65 bytes of hex")
    return StatusSnapshot(
        domain=CredentialDomain(
            _int(domain["chain_id"], "domain.chain_id", 256), _address(domain["registry"], "domain.registry")
        ),
        created_at=_int(doc["created_at"], "created_at", 40),
        issuers=tuple(sorted(issuers, key=lambda i: i.address.lower())),
        size=size,
        bitmap=bitmap,
        replaced_keys=tuple(sorted(replaced)),
        signer=_address(doc["signer"], "signer"),
        signature=decode_hex(signature),
    )


def _issuer(obj: dict[str, Any]) -> SnapshotIssuer:
    _exact(obj, {"address", "code", "name", "roles", "active"}, "issuers")
    _check(type(obj["active"]) is bool, "issuers.active", "true or false")
    return SnapshotIssuer(
        address=_address(obj["address"], "issuers.address"),
        code=_str(obj["code"], "issuers.code", 32),
        name=_str(obj["name"], "issuers.name", 200),
        roles=_int(obj["roles"], "issuers.roles", 8),
        active=obj["active"],
    )


def _exact(obj: dict[str, Any], keys: set[str], where: str) -> dict[str, Any]:
    # Unknown keys are refused too: nothing unsigned may ride along and be believed.
    if set(obj) != keys:
        raise SnapshotError(
            f"not a status snapshot: missing or unknown {', '.join(sorted(set(obj) ^ keys))}", field=where or None
        )
    return obj


def _check(ok: bool, what: str, must: str) -> None:
    if not ok:
        raise SnapshotError(f"not a status snapshot: {what} must be {must}", field=what)


def _object(value: Any, what: str) -> dict[str, Any]:
    _check(isinstance(value, dict), what, "an object")
    return dict(value)


def _int(value: Any, what: str, bits: int) -> int:
    _check(type(value) is int and 0 <= value < 2**bits, what, f"a whole number below 2^{bits}")
    return int(value)


def _str(value: Any, what: str, longest: int) -> str:
    _check(isinstance(value, str) and len(value) <= longest, what, f"text of at most {longest} characters")
    return str(value)


def _address(value: Any, what: str) -> str:
    _check(isinstance(value, str) and _ADDRESS.fullmatch(value) is not None, what, "an address (0x and 40 hex digits)")
    return to_checksum_address(value)
