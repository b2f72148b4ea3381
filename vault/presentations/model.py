"""A presentation: some fields of one credential, shown by its holder to one verifier, once.

It carries what a verifier needs to check it without the vault: the header and the disclosed
fields with their salts, the nodes that rebuild the credential hash from them, the batch proof
up to the root the issuer anchored, the issuer's signature of that root (for verifiers
offline), and the holder's signature binding all of it to a nonce and a short lifetime.
Signatures are EIP-712 under the credential registry's domain (chain id and address), so a
presentation made for one deployment is worthless on another.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Any

from eth_hash.auto import keccak

from chain.consent import DOMAIN_TYPE
from vault.credentials import commitments
from vault.credentials.header import CredentialHeader

PRESENTATION_VERSION = 1
NONCE_LEN = 16
DEFAULT_TTL = 300
MAX_TTL = 600
# Clocks of phones and counters differ: a presentation made this far "in the future" is fine.
CLOCK_SKEW = 60

PRESENTATION_TYPE = [
    {"name": "credential", "type": "bytes32"},
    {"name": "disclosure", "type": "bytes32"},
    {"name": "nonce", "type": "bytes16"},
    {"name": "createdAt", "type": "uint40"},
    {"name": "expiresAt", "type": "uint40"},
]
ISSUED_BATCH_TYPE = [{"name": "root", "type": "bytes32"}]


@dataclass(frozen=True)
class CredentialDomain:
    chain_id: int
    registry: str  # the CredentialRegistry's address

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": "datavault credentials",
            "version": "1",
            "chainId": self.chain_id,
            "verifyingContract": self.registry,
        }


@dataclass(frozen=True)
class DisclosedField:
    index: int  # position among the credential's leaves
    name: str
    value: Any
    salt: bytes

    def leaf(self) -> bytes:
        return commitments.field_leaf(self.name, self.value, self.salt)


@dataclass(frozen=True)
class Presentation:
    header: CredentialHeader
    header_index: int
    header_salt: bytes
    leaf_count: int
    fields: tuple[DisclosedField, ...]
    field_proof: tuple[bytes, ...]
    batch_proof: tuple[bytes, ...]
    issuer_signature: bytes  # 65 bytes over IssuedBatch(root), by the issuer's chain key
    nonce: bytes  # NONCE_LEN bytes, from the verifier's challenge or drawn by the holder
    created_at: int
    expires_at: int
    holder_signature: bytes = b""  # 65 bytes over Presentation(...); empty until signed
    # The credential hash, stated: the shown fields must rebuild it. Stating it (32 bytes) lets
    # a verdict tell an altered field from a forged signature or a foreign batch proof.
    credential: bytes = b""

    def disclosed_leaves(self) -> dict[int, bytes]:
        leaves = {f.index: f.leaf() for f in self.fields}
        leaves[self.header_index] = self.header.leaf(self.header_salt)
        return leaves

    def signed(self, signature: bytes) -> Presentation:
        return replace(self, holder_signature=signature)


def disclosure_digest(positions: Iterable[int]) -> bytes:
    """What the holder signs of the shown leaves: their positions, so that no one can add or
    drop a shown field after the holder signed. (Their contents are bound by the credential
    hash, which the holder signs too.)"""
    return keccak(b"".join(i.to_bytes(2, "big") for i in sorted(set(positions))))


def credential_root(p: Presentation) -> bytes | None:
    """The credential hash the shown leaves and the proof imply, or None if they do not fit."""
    return commitments.root_from_multiproof(p.leaf_count, p.disclosed_leaves(), p.field_proof)


def shown_positions(p: Presentation) -> list[int]:
    return sorted({p.header_index, *(f.index for f in p.fields)})


def _typed(
    domain: CredentialDomain, primary: str, fields: list[dict[str, str]], message: dict[str, Any]
) -> dict[str, Any]:
    return {
        "types": {"EIP712Domain": DOMAIN_TYPE, primary: fields},
        "primaryType": primary,
        "domain": domain.as_dict(),
        "message": message,
    }


def presentation_typed_data(domain: CredentialDomain, p: Presentation) -> dict[str, Any]:
    """What the holder signs (eth_signTypedData_v4)."""
    return _typed(
        domain,
        "Presentation",
        PRESENTATION_TYPE,
        {
            "credential": p.credential,
            "disclosure": disclosure_digest(shown_positions(p)),
            "nonce": p.nonce,
            "createdAt": p.created_at,
            "expiresAt": p.expires_at,
        },
    )


def issued_batch_typed_data(domain: CredentialDomain, root: bytes) -> dict[str, Any]:
    """What an issuer signs of each batch root it anchors, for verifiers that cannot reach the chain."""
    return _typed(domain, "IssuedBatch", ISSUED_BATCH_TYPE, {"root": root})
