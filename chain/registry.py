"""Typed client of the deployed ``CredentialRegistry`` (departments, roles, anchors).

Writes go through ``chain.transactions.send``: a call that would revert raises the decoded
``ChainRevertError`` before anything is sent. Views return frozen dataclasses, never tuples.

``CredentialIssued`` is an anonymous event whose only topic is the root (see the contract);
``RegistryClient.contract.events`` finds it (``chain.logs``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import IntFlag

from eth_account.signers.local import LocalAccount
from web3 import Web3

from chain.contract import ContractClient
from chain.transactions import TxResult

__all__ = ["AnchorStatus", "DepartmentInfo", "RegistryClient", "Roles", "TxResult"]

ZERO_ADDRESS = "0x" + "00" * 20
CONTRACT = "CredentialRegistry"


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


class RegistryClient(ContractClient):
    CONTRACT = CONTRACT

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

    def revoke_leaf(
        self,
        sender: LocalAccount,
        root: bytes,
        leaf: bytes,
        proof: Sequence[bytes],
        *,
        nonce: int | None = None,
    ) -> TxResult:
        args = [_b32(root, "root"), _b32(leaf, "leaf"), [_b32(p, "proof node") for p in proof]]
        return self._send(sender, "revokeLeaf", args, nonce)

    # -- views ------------------------------------------------------------------------------

    def admin(self) -> str:
        return Web3.to_checksum_address(self._call("admin"))

    def department(self, account: str) -> DepartmentInfo | None:
        """The department registered at ``account``; None if it never was."""
        dept_id, code, roles, active, changed_at = self._call("department", Web3.to_checksum_address(account))
        if dept_id == 0:
            return None
        return DepartmentInfo(int(dept_id), bytes(code), Roles(roles), bool(active), int(changed_at))

    def department_address(self, dept_id: int) -> str | None:
        return _issuer(self._call("departmentById", int(dept_id)))

    def has_role(self, account: str, role: int) -> bool:
        return bool(self._call("hasRole", Web3.to_checksum_address(account), int(role)))

    def root_status(self, root: bytes) -> AnchorStatus:
        issuer, issued_at, valid_from, valid_until, revoked_at = self._call("rootStatus", _b32(root, "root"))
        return AnchorStatus(bytes(root), _issuer(issuer), issued_at, valid_from, valid_until, revoked_at)

    def credential_status(self, leaf: bytes, proof: Sequence[bytes]) -> AnchorStatus:
        """Status of one credential: its root via ``proof``; revoked if the leaf or root is."""
        result = self._call("credentialStatus", _b32(leaf, "leaf"), [_b32(p, "proof node") for p in proof])
        root, issuer, issued_at, valid_from, valid_until, revoked_at = result
        return AnchorStatus(bytes(root), _issuer(issuer), issued_at, valid_from, valid_until, revoked_at)
