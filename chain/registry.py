"""Typed client of the deployed ``CredentialRegistry`` (departments, roles, anchors).

Writes go through ``chain.transactions.send``: a call that would revert raises the decoded
``ChainRevertError`` before anything is sent. Views return frozen dataclasses, never tuples.

``CredentialIssued`` is an anonymous event whose only topic is the root (see the contract);
``RegistryClient.contract.events`` finds it (``chain.logs``).

One credential of a batch is revoked by its hash alone (``revokeCredential``). Registries
deployed before that function (a data directory from an older version keeps its contract)
revoke it with ``revokeLeaf`` and the credential's Merkle proof instead;
``revoke_credential_calldata`` gives whichever the deployed registry takes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import IntFlag
from typing import Any

from eth_abi.abi import encode as abi_encode
from eth_account.signers.local import LocalAccount
from web3 import Web3

from chain.contract import ContractClient
from chain.transactions import TxResult

__all__ = [
    "AnchorStatus",
    "DepartmentInfo",
    "RegistryClient",
    "Roles",
    "TxResult",
    "anchor_status_of",
    "department_of",
]

ZERO_ADDRESS = "0x" + "00" * 20
CONTRACT = "CredentialRegistry"
# The function registries deployed before ``revokeCredential`` revoke one credential with.
LEGACY_REVOKE_LEAF = "revokeLeaf(bytes32,bytes32,bytes32[])"


class Roles(IntFlag):
    NONE = 0
    ISSUER = 1
    VERIFIER = 2
    REGISTRAR = 4
    DATA_USER = 8


@dataclass(frozen=True)
class DepartmentInfo:
    id: int
    code: bytes
    roles: Roles
    active: bool
    changed_at: int


@dataclass(frozen=True)
class AnchorStatus:
    root: bytes
    issuer: str | None  # checksum address; None if the root was never anchored
    issued_at: int
    valid_from: int
    valid_until: int
    revoked_at: int

    @property
    def anchored(self) -> bool:
        return self.issuer is not None

    @property
    def revoked(self) -> bool:
        return self.revoked_at != 0


def _b32(value: bytes, what: str) -> bytes:
    if len(value) != 32:
        raise ValueError(f"{what} must be 32 bytes, got {len(value)}")
    return bytes(value)


def _issuer(address: str) -> str | None:
    return None if int(address, 16) == 0 else Web3.to_checksum_address(address)


def department_of(result: tuple[Any, ...]) -> DepartmentInfo | None:
    """``department``'s return values as a ``DepartmentInfo``; None for an unknown account."""
    dept_id, code, roles, active, changed_at = result
    if dept_id == 0:
        return None
    return DepartmentInfo(int(dept_id), bytes(code), Roles(roles), bool(active), int(changed_at))


def anchor_status_of(result: tuple[Any, ...]) -> AnchorStatus:
    """``credentialStatus``'s return values as an ``AnchorStatus``."""
    root, issuer, issued_at, valid_from, valid_until, revoked_at = result
    return AnchorStatus(bytes(root), _issuer(issuer), issued_at, valid_from, valid_until, revoked_at)


class RegistryClient(ContractClient):
    CONTRACT = CONTRACT

    _by_hash: bool | None = None

    # -- governance (admin only) ------------------------------------------------------------

    def add_department(
        self,
        sender: LocalAccount,
        account: str,
        code: bytes,
        roles: int,
        *,
        nonce: int | None = None,
    ) -> TxResult:
        args = [Web3.to_checksum_address(account), _b32(code, "department code"), int(roles)]
        return self._send(sender, "addDepartment", args, nonce)

    def set_roles(self, sender: LocalAccount, account: str, roles: int, *, nonce: int | None = None) -> TxResult:
        return self._send(sender, "setRoles", [Web3.to_checksum_address(account), int(roles)], nonce)

    def deactivate_department(self, sender: LocalAccount, account: str, *, nonce: int | None = None) -> TxResult:
        return self._send(sender, "deactivateDepartment", [Web3.to_checksum_address(account)], nonce)

    def reactivate_department(self, sender: LocalAccount, account: str, *, nonce: int | None = None) -> TxResult:
        return self._send(sender, "reactivateDepartment", [Web3.to_checksum_address(account)], nonce)

    def transfer_admin(self, sender: LocalAccount, new_admin: str, *, nonce: int | None = None) -> TxResult:
        return self._send(sender, "transferAdmin", [Web3.to_checksum_address(new_admin)], nonce)

    # -- anchors (issuing departments) ------------------------------------------------------

    def issue(
        self,
        sender: LocalAccount,
        root: bytes,
        valid_from: int,
        valid_until: int,
        *,
        nonce: int | None = None,
    ) -> TxResult:
        return self._send(sender, "issue", [_b32(root, "root"), int(valid_from), int(valid_until)], nonce)

    def revoke(self, sender: LocalAccount, root: bytes, *, nonce: int | None = None) -> TxResult:
        return self._send(sender, "revoke", [_b32(root, "root")], nonce)

    def revoke_credential(self, sender: LocalAccount, credential_hash: bytes, *, nonce: int | None = None) -> TxResult:
        """Revokes one credential by its hash (a Merkle leaf, or a lone root): no proof. It
        counts only for credentials ``sender`` anchored (see ``credential_status``)."""
        return self._send(sender, "revokeCredential", [_b32(credential_hash, "credential hash")], nonce)

    def revokes_by_hash(self) -> bool:
        """Whether the deployed registry has ``revokeCredential``; False for one deployed by an
        older version, which revokes one credential of a batch only with ``revokeLeaf`` and a
        proof. Read from the deployed code once (code at an address never changes)."""
        if self._by_hash is None:
            code = bytes(self.w3.eth.get_code(self.address))
            # solc's dispatcher pushes every external function's selector (PUSH4 selector).
            self._by_hash = b"\x63" + self.encode("revokeCredential", bytes(32))[:4] in code
        return self._by_hash

    def revoke_credential_calldata(self, credential_hash: bytes, root: bytes, proof: Sequence[bytes]) -> bytes:
        """Calldata revoking the credential ``credential_hash`` of the batch ``root`` on the
        deployed registry: ``revokeCredential(hash)``, or on an older registry
        ``revokeLeaf(root, hash, proof)``."""
        leaf = _b32(credential_hash, "credential hash")
        if self.revokes_by_hash():
            return self.encode("revokeCredential", leaf)
        args = [_b32(root, "root"), leaf, [_b32(p, "proof node") for p in proof]]
        selector = Web3.keccak(text=LEGACY_REVOKE_LEAF)[:4]
        return selector + abi_encode(["bytes32", "bytes32", "bytes32[]"], args)

    # -- views ------------------------------------------------------------------------------

    def admin(self) -> str:
        return Web3.to_checksum_address(self._call("admin"))

    def department(self, account: str) -> DepartmentInfo | None:
        """The department registered at ``account``; None if it never was."""
        return department_of(self._call("department", Web3.to_checksum_address(account)))

    def department_address(self, dept_id: int) -> str | None:
        return _issuer(self._call("departmentById", int(dept_id)))

    def has_role(self, account: str, role: int) -> bool:
        return bool(self._call("hasRole", Web3.to_checksum_address(account), int(role)))

    def root_status(self, root: bytes) -> AnchorStatus:
        issuer, issued_at, valid_from, valid_until, revoked_at = self._call("rootStatus", _b32(root, "root"))
        return AnchorStatus(bytes(root), _issuer(issuer), issued_at, valid_from, valid_until, revoked_at)

    def credential_revoked_at(self, issuer: str, credential_hash: bytes) -> int:
        """When ``issuer`` revoked the credential ``credential_hash`` by its hash; 0 if not."""
        args = (Web3.to_checksum_address(issuer), _b32(credential_hash, "credential hash"))
        return int(self._call("credentialRevokedAt", *args))

    def credential_status(self, leaf: bytes, proof: Sequence[bytes]) -> AnchorStatus:
        """Status of one credential: its root via ``proof``; revoked if the root is, or if the
        root's issuer revoked the leaf (the earlier time of the two)."""
        return anchor_status_of(
            self._call("credentialStatus", _b32(leaf, "leaf"), [_b32(p, "proof node") for p in proof])
        )
