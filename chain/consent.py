"""EIP-712 typed data of the consent registry, and its typed client.

The typed data here is exactly what a standard wallet signs with ``eth_signTypedData_v4``:
``grant_typed_data`` returns the full message (types, primaryType, domain, message) that the
API publishes. Strings and string arrays are shown to the signer as text; the contract
receives only their EIP-712 encodings (``text_hash``, ``strings_hash``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from eth_account.signers.local import LocalAccount
from eth_utils.crypto import keccak
from eth_utils.hexadecimal import decode_hex
from web3 import Web3

from chain.contract import ContractClient
from chain.reverts import ABI
from chain.transactions import TxResult

CONTRACT = "ConsentRegistry"
DOMAIN_NAME = "DataVault Consent"
DOMAIN_VERSION = "1"
UINT32_MAX = 2**32 - 1
UINT64_MAX = 2**64 - 1

# Record-type bits, as the contract checks them against delegations.
RECORD_TYPE_BITS = {"licence": 1, "certificate": 2, "data": 4}
ALL_RECORD_TYPES = 7

DOMAIN_TYPE = [
    {"name": "name", "type": "string"},
    {"name": "version", "type": "string"},
    {"name": "chainId", "type": "uint256"},
    {"name": "verifyingContract", "type": "address"},
]


def _fields(*pairs: tuple[str, str]) -> list[dict[str, str]]:
    return [{"name": name, "type": kind} for kind, name in pairs]


GRANT_TYPE = _fields(
    ("bytes32", "subject"),
    ("address", "grantee"),
    ("uint8", "recordTypes"),
    ("string[]", "fields"),
    ("uint16", "purposeCode"),
    ("string", "purpose"),
    ("uint32", "notBefore"),
    ("uint32", "expiresAt"),
    ("uint32", "maxUses"),
    ("uint64", "nonce"),
)
REVOCATION_TYPE = _fields(("bytes32", "subject"), ("uint64", "grantNonce"))
DELEGATION_TYPE = _fields(
    ("bytes32", "subject"),
    ("address", "agent"),
    ("uint8", "recordTypes"),
    ("uint32", "notBefore"),
    ("uint32", "expiresAt"),
    ("uint64", "nonce"),
)
DELEGATION_REVOCATION_TYPE = _fields(("bytes32", "subject"), ("address", "agent"), ("uint64", "delegationNonce"))


def record_type_bits(types: Sequence[str]) -> int:
    bits = 0
    for name in types:
        if name not in RECORD_TYPE_BITS:
            raise ValueError(f"unknown record type {name!r}")
        bits |= RECORD_TYPE_BITS[name]
    return bits


def record_type_names(bits: int) -> list[str]:
    return [name for name, bit in RECORD_TYPE_BITS.items() if bits & bit]


def text_hash(text: str) -> bytes:
    """EIP-712 encoding of a ``string`` member."""
    return bytes(keccak(text.encode("utf-8")))


def strings_hash(items: Sequence[str]) -> bytes:
    """EIP-712 encoding of a ``string[]`` member: keccak of the concatenated element hashes."""
    return bytes(keccak(b"".join(text_hash(item) for item in items)))


@dataclass(frozen=True)
class Domain:
    chain_id: int
    verifying_contract: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": DOMAIN_NAME,
            "version": DOMAIN_VERSION,
            "chainId": self.chain_id,
            "verifyingContract": Web3.to_checksum_address(self.verifying_contract),
        }


@dataclass(frozen=True)
class GrantTerms:
    subject: bytes  # 32-byte pseudonymous subject id
    grantee: str  # the department's chain address
    record_types: int  # RECORD_TYPE_BITS
    fields: tuple[str, ...]  # field paths, shown to the signer
    purpose_code: int
    purpose: str  # the purpose in words, shown to the signer
    not_before: int
    expires_at: int
    max_uses: int
    nonce: int

    def message(self) -> dict[str, Any]:
        return {
            "subject": self.subject,
            "grantee": Web3.to_checksum_address(self.grantee),
            "recordTypes": self.record_types,
            "fields": list(self.fields),
            "purposeCode": self.purpose_code,
            "purpose": self.purpose,
            "notBefore": self.not_before,
            "expiresAt": self.expires_at,
            "maxUses": self.max_uses,
            "nonce": self.nonce,
        }

    def contract_args(self, purpose_hash: bytes | None = None) -> tuple[Any, ...]:
        """``purpose_hash``: the purpose's ``text_hash`` when the text itself is not at hand
        (a relayer need not hold the purpose in words; the contract sees only its hash)."""
        return (
            self.subject,
            Web3.to_checksum_address(self.grantee),
            self.record_types,
            strings_hash(self.fields),
            self.purpose_code,
            text_hash(self.purpose) if purpose_hash is None else purpose_hash,
            self.not_before,
            self.expires_at,
            self.max_uses,
            self.nonce,
        )


@dataclass(frozen=True)
class DelegationTerms:
    subject: bytes
    agent: str
    record_types: int
    not_before: int
    expires_at: int
    nonce: int

    def message(self) -> dict[str, Any]:
        return {
            "subject": self.subject,
            "agent": Web3.to_checksum_address(self.agent),
            "recordTypes": self.record_types,
            "notBefore": self.not_before,
            "expiresAt": self.expires_at,
            "nonce": self.nonce,
        }

    def contract_args(self) -> tuple[Any, ...]:
        return (
            self.subject,
            Web3.to_checksum_address(self.agent),
            self.record_types,
            self.not_before,
            self.expires_at,
            self.nonce,
        )


def _typed(domain: Domain, primary: str, fields: list[dict[str, str]], message: dict[str, Any]) -> dict[str, Any]:
    return {
        "types": {"EIP712Domain": DOMAIN_TYPE, primary: fields},
        "primaryType": primary,
        "domain": domain.as_dict(),
        "message": message,
    }


def grant_typed_data(domain: Domain, terms: GrantTerms) -> dict[str, Any]:
    return _typed(domain, "Grant", GRANT_TYPE, terms.message())


def revocation_typed_data(domain: Domain, subject: bytes, grant_nonce: int) -> dict[str, Any]:
    return _typed(domain, "Revocation", REVOCATION_TYPE, {"subject": subject, "grantNonce": grant_nonce})


def delegation_typed_data(domain: Domain, terms: DelegationTerms) -> dict[str, Any]:
    return _typed(domain, "Delegation", DELEGATION_TYPE, terms.message())


def delegation_revocation_typed_data(domain: Domain, subject: bytes, agent: str, nonce: int) -> dict[str, Any]:
    message = {"subject": subject, "agent": Web3.to_checksum_address(agent), "delegationNonce": nonce}
    return _typed(domain, "DelegationRevocation", DELEGATION_REVOCATION_TYPE, message)


def grant_id(subject: bytes, nonce: int) -> bytes:
    """keccak256(abi.encode(subject, nonce)), as the contract derives it."""
    return bytes(keccak(bytes(subject) + int(nonce).to_bytes(32, "big")))


def compact_signature(signature: bytes | str) -> tuple[bytes, bytes]:
    """A 65-byte (r, s, v) signature as EIP-2098 (r, vs), the form the contract takes."""
    raw = decode_hex(signature) if isinstance(signature, str) else bytes(signature)
    if len(raw) != 65:
        raise ValueError("a signature is 65 bytes")
    v = raw[64]
    if v < 27:
        v += 27  # some signers give the recovery id 0/1
    if v not in (27, 28):
        raise ValueError("signature recovery id must be 27 or 28")
    s = int.from_bytes(raw[32:64], "big")
    return raw[:32], (((v - 27) << 255) | s).to_bytes(32, "big")


@dataclass(frozen=True)
class GrantStatus:
    grant_id: bytes
    grantee: str | None  # None if never recorded
    not_before: int
    expires_at: int
    revoked_at: int

    @property
    def exists(self) -> bool:
        return self.grantee is not None

    @property
    def revoked(self) -> bool:
        return self.revoked_at != 0


@dataclass(frozen=True)
class SubjectKey:
    key: str | None
    version: int
    since: int


@dataclass(frozen=True)
class DelegationStatus:
    record_types: int
    guardian: bool
    not_before: int
    expires_at: int
    revoked_at: int
    nonce: int

    @property
    def exists(self) -> bool:
        return self.expires_at != 0


def _address(value: str) -> str | None:
    return None if int(value, 16) == 0 else Web3.to_checksum_address(value)


def subject_key_of(result: tuple[Any, ...]) -> SubjectKey:
    """``subjectKey``'s return values as a ``SubjectKey`` (key None: never bound)."""
    key, version, since = result
    return SubjectKey(_address(key), int(version), int(since))


class ConsentClient(ContractClient):
    CONTRACT = CONTRACT

    def __init__(self, w3: Web3, address: str, abi: ABI | None = None) -> None:
        super().__init__(w3, address, abi)
        self._domain: Domain | None = None

    def domain(self) -> Domain:
        # The chain id is asked once: it does not change under a deployed contract.
        if self._domain is None:
            self._domain = Domain(int(self.w3.eth.chain_id), self.address)
        return self._domain

    # -- registrar ------------------------------------------------------------------------------

    def bind_subject(self, sender: LocalAccount, subject: bytes, key: str, *, nonce: int | None = None) -> TxResult:
        return self._send(sender, "bindSubject", [subject, Web3.to_checksum_address(key)], nonce)

    def rotate_subject_key(
        self, sender: LocalAccount, subject: bytes, key: str, *, nonce: int | None = None
    ) -> TxResult:
        return self._send(sender, "rotateSubjectKey", [subject, Web3.to_checksum_address(key)], nonce)

    def set_guardian(
        self,
        sender: LocalAccount,
        subject: bytes,
        guardian: str,
        not_before: int,
        expires_at: int,
        *,
        nonce: int | None = None,
    ) -> TxResult:
        args = [subject, Web3.to_checksum_address(guardian), not_before, expires_at]
        return self._send(sender, "setGuardian", args, nonce)

    def remove_guardian(
        self, sender: LocalAccount, subject: bytes, guardian: str, *, nonce: int | None = None
    ) -> TxResult:
        return self._send(sender, "removeGuardian", [subject, Web3.to_checksum_address(guardian)], nonce)

    # -- relayed, signed by the subject or a delegate --------------------------------------------

    def grant(
        self, sender: LocalAccount, terms: GrantTerms, signature: bytes | str, *, nonce: int | None = None
    ) -> TxResult:
        r, vs = compact_signature(signature)
        return self._send(sender, "grant", [terms.contract_args(), r, vs], nonce)

    def revoke_grant(
        self,
        sender: LocalAccount,
        subject: bytes,
        grant_nonce: int,
        signature: bytes | str,
        *,
        nonce: int | None = None,
    ) -> TxResult:
        r, vs = compact_signature(signature)
        return self._send(sender, "revokeGrant", [subject, grant_nonce, r, vs], nonce)

    def delegate(
        self,
        sender: LocalAccount,
        terms: DelegationTerms,
        signature: bytes | str,
        *,
        nonce: int | None = None,
    ) -> TxResult:
        r, vs = compact_signature(signature)
        return self._send(sender, "delegate", [terms.contract_args(), r, vs], nonce)

    def revoke_delegation(
        self,
        sender: LocalAccount,
        subject: bytes,
        agent: str,
        delegation_nonce: int,
        signature: bytes | str,
        *,
        nonce: int | None = None,
    ) -> TxResult:
        r, vs = compact_signature(signature)
        args = [subject, Web3.to_checksum_address(agent), delegation_nonce, r, vs]
        return self._send(sender, "revokeDelegation", args, nonce)

    # -- views ----------------------------------------------------------------------------------

    def grant_status(self, grant_id_: bytes) -> GrantStatus:
        grantee, not_before, expires_at, revoked_at = self._call("grantStatus", grant_id_)
        return GrantStatus(bytes(grant_id_), _address(grantee), not_before, expires_at, revoked_at)

    def is_grant_active(self, grant_id_: bytes) -> bool:
        return bool(self._call("isGrantActive", grant_id_))

    def subject_key(self, subject: bytes) -> SubjectKey:
        return subject_key_of(self._call("subjectKey", subject))

    def delegation(self, subject: bytes, agent: str) -> DelegationStatus:
        values = self._call("delegation", subject, Web3.to_checksum_address(agent))
        return DelegationStatus(int(values[0]), bool(values[1]), *(int(v) for v in values[2:]))

    def can_act_for(self, subject: bytes, agent: str, record_types: int) -> bool:
        return bool(self._call("canActFor", subject, Web3.to_checksum_address(agent), record_types))

    def grant_digest(self, terms: GrantTerms) -> bytes:
        return bytes(self._call("grantDigest", terms.contract_args()))
