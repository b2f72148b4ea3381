"""The reads a verifier makes most, each with the log topics that can change its answer.

A query's answer changes only in a block with a log of one of the view's contracts carrying
one of the query's ``topics`` (its dependencies). That holds because every state-changing
function of the registries emits an event with the keys it changes as indexed arguments
(a credential's root and hash, a department's account, a subject), which the contracts'
tests and ``tests/unit/chain/test_view.py`` check function by function:

- ``credentialStatus(leaf, proof)`` reads the anchor of the proof's root (``CredentialIssued``
  and ``CredentialRevoked`` carry the root) and the root issuer's revocation of the leaf
  (``CredentialHashRevoked`` carries the leaf); an issuer's address never changes;
- ``department(account)``: every department event carries the account;
- ``subjectKey(subject)``: ``SubjectKeyBound`` carries the subject.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from web3 import Web3

from chain.calldata import Function
from chain.consent import ConsentClient, SubjectKey, subject_key_of
from chain.merkle import process_proof
from chain.registry import AnchorStatus, DepartmentInfo, RegistryClient, anchor_status_of, department_of
from chain.view.reader import Call

T = TypeVar("T")


@dataclass(frozen=True)
class Query(Generic[T]):
    key: tuple[Any, ...]  # what the answer is cached under
    call: Call
    topics: frozenset[bytes]  # 32-byte log topics that change the answer
    function: Function
    shape: Callable[[Any], T]

    def answer(self, data: bytes) -> T:
        return self.shape(self.function.decode(data))


def address_topic(address: str) -> bytes:
    """An indexed address as a log carries it: left-padded to 32 bytes."""
    return bytes(12) + bytes.fromhex(Web3.to_checksum_address(address)[2:])


def credential_status(registry: RegistryClient, leaf: bytes, proof: Sequence[bytes]) -> Query[AnchorStatus]:
    """Raises ``ValueError`` for a leaf or proof node that is not 32 bytes, as the client does."""
    proof = tuple(bytes(p) for p in proof)
    fn = registry.functions["credentialStatus"]
    root = process_proof(bytes(leaf), list(proof))
    return Query(
        ("credentialStatus", registry.address, bytes(leaf), proof),
        Call(registry.address, fn.encode((bytes(leaf), list(proof)))),
        frozenset({bytes(leaf), root}),
        fn,
        anchor_status_of,
    )


def department(registry: RegistryClient, account: str) -> Query[DepartmentInfo | None]:
    fn = registry.functions["department"]
    address = Web3.to_checksum_address(account)
    return Query(
        ("department", registry.address, address),
        Call(registry.address, fn.encode((address,))),
        frozenset({address_topic(address)}),
        fn,
        department_of,
    )


def subject_key(consent: ConsentClient, subject: bytes) -> Query[SubjectKey]:
    fn = consent.functions["subjectKey"]
    return Query(
        ("subjectKey", consent.address, bytes(subject)),
        Call(consent.address, fn.encode((bytes(subject),))),
        frozenset({bytes(subject)}),
        fn,
        subject_key_of,
    )
