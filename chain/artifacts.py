"""Committed contract artifacts (ABI + bytecode) and the hash that tells if they are stale.

Running the vault never needs a compiler: it loads ``contracts/artifacts/<Name>.json``.
``current_source_hash()`` recomputes, without a compiler, the hash the artifacts were built
from, so a test can fail when someone edits a ``.sol`` file and forgets to recompile.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from chain.errors import ChainError

REPO_ROOT = Path(__file__).resolve().parents[1]
CONTRACTS_DIR = REPO_ROOT / "contracts"
ARTIFACTS_DIR = CONTRACTS_DIR / "artifacts"

# Compiler settings live here, not in the compiler module, because they are part of the
# source hash and the hash must be computable on machines without Node.
# evmVersion is pinned: solc 0.8.37 defaults to osaka, which py-evm does not implement.
EVM_VERSION = "prague"
OPTIMIZER: dict[str, Any] = {"enabled": True, "runs": 1_000_000}
VIA_IR = True


def compiler_settings() -> dict[str, Any]:
    """The ``settings`` block of the standard-JSON input that affects the bytecode."""
    return {
        "evmVersion": EVM_VERSION,
        "optimizer": dict(OPTIMIZER),
        "viaIR": VIA_IR,
    }


@dataclass(frozen=True)
class Artifact:
    name: str
    abi: list[dict[str, Any]]
    bytecode: str
    deployed_bytecode: str
    source_hash: str


def source_files() -> dict[str, str]:
    """Solidity sources keyed by their repo-relative POSIX path (the solc source unit name)."""
    return {
        p.relative_to(REPO_ROOT).as_posix(): p.read_text(encoding="utf-8") for p in sorted(CONTRACTS_DIR.rglob("*.sol"))
    }


def source_hash(sources: dict[str, str], settings: dict[str, Any]) -> str:
    h = hashlib.sha256()
    for name in sorted(sources):
        # Length-prefix each part so that moving text between files changes the hash.
        for part in (name, sources[name]):
            data = part.encode("utf-8")
            h.update(len(data).to_bytes(8, "big"))
            h.update(data)
    h.update(json.dumps(settings, sort_keys=True, separators=(",", ":")).encode("utf-8"))
    return "0x" + h.hexdigest()


def current_source_hash() -> str:
    """Hash of the sources and settings as they are on disk now."""
    return source_hash(source_files(), compiler_settings())


def artifact_path(name: str) -> Path:
    return ARTIFACTS_DIR / f"{name}.json"


def load_artifact(name: str) -> Artifact:
    """Loads ``contracts/artifacts/<name>.json``; raises ChainError if missing or malformed."""
    path = artifact_path(name)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return Artifact(
            name=data["contractName"],
            abi=data["abi"],
            bytecode=data["bytecode"],
            deployed_bytecode=data["deployedBytecode"],
            source_hash=data["sourceHash"],
        )
    except FileNotFoundError as exc:
        raise ChainError(f"no artifact for {name!r} in contracts/artifacts; run `python -m chain.compiler`") from exc
    except (KeyError, TypeError, ValueError) as exc:
        raise ChainError(f"malformed artifact {path.name}: {exc}") from exc
