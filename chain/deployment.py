"""Deploying the registry, and checking after every restart that it is still there.

A vault records its ``Deployment``; on the next start ``verify_deployment`` proves the chain
is the same one: same chain id, the recorded block is still the same block (a reset chain on
which the same key redeployed, landing at the same address with the same code, fails this),
and the recorded code is at the recorded address. Redeploying is the caller's decision, never made here.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, replace
from typing import Any

from eth_abi.abi import encode as abi_encode
from eth_account.signers.local import LocalAccount
from eth_utils.hexadecimal import decode_hex, encode_hex
from hexbytes import HexBytes
from web3 import Web3
from web3.exceptions import BlockNotFound

from chain import transactions
from chain.artifacts import Artifact, load_artifact
from chain.audit_anchor import CONTRACT as AUDIT_CONTRACT
from chain.consent import CONTRACT as CONSENT_CONTRACT
from chain.engines.base import Engine
from chain.errors import DeploymentError
from chain.registry import CONTRACT

_ADVICE = (
    "restore the chain state (the anvil state file in the data directory, or the consortium "
    "chain's data) or point the vault at the chain it was deployed on; the vault refuses to "
    "redeploy over existing data"
)


@dataclass(frozen=True)
class Deployment:
    chain_id: int
    registry: str  # checksum address of CredentialRegistry
    block: int  # block of the deployment transaction
    code_hash: str  # 0x keccak256 of the runtime code
    deployed_at: int  # unix timestamp of that block
    block_hash: str = ""  # 0x hash of that block ("" in records that predate it)
    consent: str = ""  # checksum address of ConsentRegistry ("" until deployed)
    consent_code_hash: str = ""
    audit: str = ""  # checksum address of AuditAnchor ("" until deployed)
    audit_code_hash: str = ""

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> Deployment:
        try:
            data: dict[str, Any] = json.loads(text)
            return cls(
                chain_id=int(data["chain_id"]),
                registry=Web3.to_checksum_address(data["registry"]),
                block=int(data["block"]),
                code_hash=str(data["code_hash"]),
                deployed_at=int(data["deployed_at"]),
                block_hash=str(data.get("block_hash", "")),
                consent=Web3.to_checksum_address(data["consent"]) if data.get("consent") else "",
                consent_code_hash=str(data.get("consent_code_hash", "")),
                audit=Web3.to_checksum_address(data["audit"]) if data.get("audit") else "",
                audit_code_hash=str(data.get("audit_code_hash", "")),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise DeploymentError(f"the recorded deployment is unreadable: {exc}") from exc


def _w3(engine_or_w3: Engine | Web3) -> Web3:
    return engine_or_w3.w3 if isinstance(engine_or_w3, Engine) else engine_or_w3


def code_hash(code: bytes) -> str:
    return encode_hex(Web3.keccak(code))


def deploy_registry(engine_or_w3: Engine | Web3, admin: LocalAccount, artifact: Artifact | None = None) -> Deployment:
    """Deploys ``CredentialRegistry`` with ``admin`` as governance admin (and deployer)."""
    w3 = _w3(engine_or_w3)
    art = artifact if artifact is not None else load_artifact(CONTRACT)
    data = decode_hex(art.bytecode) + abi_encode(["address"], [admin.address])
    result = transactions.send(w3, admin, to=None, data=data, abi=art.abi, context=f"deploy {art.name}")
    receipt = w3.eth.get_transaction_receipt(HexBytes(result.tx_hash))
    address = receipt["contractAddress"]
    if address is None:
        raise DeploymentError(f"deployment transaction {encode_hex(result.tx_hash)} created no contract")
    code = bytes(w3.eth.get_code(address))
    block = w3.eth.get_block(result.block_number)
    return Deployment(
        chain_id=int(w3.eth.chain_id),
        registry=Web3.to_checksum_address(address),
        block=result.block_number,
        code_hash=code_hash(code),
        deployed_at=int(block["timestamp"]),
        block_hash=encode_hex(block["hash"]),
    )


def _deploy(w3: Web3, admin: LocalAccount, name: str, arg: str) -> tuple[str, str]:
    art = load_artifact(name)
    data = decode_hex(art.bytecode) + abi_encode(["address"], [arg])
    result = transactions.send(w3, admin, to=None, data=data, abi=art.abi, context=f"deploy {art.name}")
    address = w3.eth.get_transaction_receipt(HexBytes(result.tx_hash))["contractAddress"]
    if address is None:
        raise DeploymentError(f"deployment transaction {encode_hex(result.tx_hash)} created no contract")
    return Web3.to_checksum_address(address), code_hash(bytes(w3.eth.get_code(address)))


def deploy_consent(engine_or_w3: Engine | Web3, admin: LocalAccount, dep: Deployment) -> Deployment:
    """Deploys ``ConsentRegistry`` bound to ``dep``'s registry; returns ``dep`` naming it.

    Adding it to an existing deployment is safe: it holds nothing until grants are relayed.
    """
    address, digest = _deploy(_w3(engine_or_w3), admin, CONSENT_CONTRACT, dep.registry)
    return replace(dep, consent=address, consent_code_hash=digest)


def deploy_audit(engine_or_w3: Engine | Web3, admin: LocalAccount, dep: Deployment) -> Deployment:
    """Deploys ``AuditAnchor`` with ``admin`` (the operator, sole submitter) as its logger."""
    address, digest = _deploy(_w3(engine_or_w3), admin, AUDIT_CONTRACT, admin.address)
    return replace(dep, audit=address, audit_code_hash=digest)


def deploy(engine_or_w3: Engine | Web3, admin: LocalAccount) -> Deployment:
    """Every contract a vault needs, in order; ``admin`` governs the department registry."""
    dep = deploy_consent(engine_or_w3, admin, deploy_registry(engine_or_w3, admin))
    return deploy_audit(engine_or_w3, admin, dep)


def _check_code(w3: Web3, what: str, address: str, expected: str, dep: Deployment, reset: str) -> None:
    code = bytes(w3.eth.get_code(Web3.to_checksum_address(address)))
    if not code:
        raise DeploymentError(f"{reset}: there is no {what} at {address}; {_ADVICE}")
    if code_hash(code) != expected:
        raise DeploymentError(
            f"the {what} at {address} is not the one this vault deployed at block {dep.block} "
            f"(code hash {code_hash(code)}, expected {expected}); {_ADVICE}"
        )


def verify_deployment(w3: Web3, dep: Deployment) -> None:
    """Raises ``DeploymentError`` (operator-facing) unless ``dep`` is live on this chain."""
    chain_id = int(w3.eth.chain_id)
    if chain_id != dep.chain_id:
        raise DeploymentError(
            f"connected to chain id {chain_id}, but this vault's contract was deployed on chain id "
            f"{dep.chain_id} (registry {dep.registry}, block {dep.block}); {_ADVICE}"
        )
    reset = f"the chain was reset or replaced since this vault was deployed at block {dep.block}"
    try:
        block = w3.eth.get_block(dep.block)
    except BlockNotFound:
        head = w3.eth.block_number
        raise DeploymentError(f"{reset} (the chain is now at block {head}); {_ADVICE}") from None
    if int(block["timestamp"]) != dep.deployed_at or (dep.block_hash and encode_hex(block["hash"]) != dep.block_hash):
        raise DeploymentError(f"{reset} (block {dep.block} is not the block the contract was deployed in); {_ADVICE}")
    _check_code(w3, "contract", dep.registry, dep.code_hash, dep, reset)
    if dep.consent:
        _check_code(w3, "consent registry", dep.consent, dep.consent_code_hash, dep, reset)
    if dep.audit:
        _check_code(w3, "audit anchor", dep.audit, dep.audit_code_hash, dep, reset)
