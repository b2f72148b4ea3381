"""Compile ``contracts/*.sol`` with solc-js and rewrite ``contracts/artifacts/*.json``.

Run ``python -m chain.compiler``. There is no native solc here and py-solc-x cannot download
one, so ``solcx.compile_standard`` is pointed at a tiny generated shim that runs
``chain/solc_wrapper.py`` (solc-js via Node) with this interpreter.
"""

from __future__ import annotations

import json
import logging
import os
import shlex
import stat
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import solcx
from solcx.exceptions import SolcError
from solcx.wrapper import get_version_str_from_solc_binary

from chain import solc_wrapper
from chain.artifacts import (
    ARTIFACTS_DIR,
    REPO_ROOT,
    compiler_settings,
    source_files,
    source_hash,
)
from chain.errors import CompileError

log = logging.getLogger(__name__)


@contextmanager
def solc_shim() -> Iterator[Path]:
    """Yields an executable ``solc`` that py-solc-x can call; removed afterwards."""
    try:
        solc_wrapper.solcjs_command()
    except FileNotFoundError as exc:
        raise CompileError(str(exc)) from exc
    with tempfile.TemporaryDirectory(prefix="solc-shim-") as tmp:
        shim = Path(tmp) / "solc"
        wrapper = Path(solc_wrapper.__file__).resolve()
        shim.write_text(f'#!/bin/sh\nexec {shlex.quote(sys.executable)} {shlex.quote(str(wrapper))} "$@"\n')
        shim.chmod(shim.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
        yield shim


def standard_input(sources: dict[str, str]) -> dict[str, Any]:
    settings = compiler_settings()
    settings["outputSelection"] = {"*": {"*": ["abi", "evm.bytecode.object", "evm.deployedBytecode.object"]}}
    return {
        "language": "Solidity",
        "sources": {name: {"content": text} for name, text in sources.items()},
        "settings": settings,
    }


def compile_contracts() -> dict[str, dict[str, Any]]:
    """Compiles every source; returns artifact documents keyed by contract name.

    Abstract contracts and interfaces (empty bytecode) get no artifact.
    """
    sources = source_files()
    if not sources:
        raise CompileError("no .sol files under contracts/")
    settings = compiler_settings()
    with solc_shim() as shim:
        try:
            version = get_version_str_from_solc_binary(shim)
            output = solcx.compile_standard(
                standard_input(sources),
                solc_binary=shim,
                base_path=REPO_ROOT,
                allow_paths=[REPO_ROOT / "contracts"],
            )
        except SolcError as exc:
            raise CompileError(f"solc-js failed:\n{exc}") from exc
        except (OSError, ValueError) as exc:
            raise CompileError(f"could not run solc-js: {exc}") from exc
    for diag in output.get("errors", []):  # only warnings and infos get this far
        log.warning("%s", diag.get("formattedMessage", diag.get("message", diag)))
    digest = source_hash(sources, settings)
    compiler = {
        "evmVersion": settings["evmVersion"],
        "optimizer": settings["optimizer"],
        "version": version,
        "viaIR": settings["viaIR"],
    }
    artifacts: dict[str, dict[str, Any]] = {}
    for unit in sorted(output.get("contracts", {})):
        for name, out in sorted(output["contracts"][unit].items()):
            code = out["evm"]["bytecode"]["object"]
            if not code:
                continue
            if name in artifacts:
                raise CompileError(f"two contracts named {name}; artifact names must be unique")
            artifacts[name] = {
                "abi": out["abi"],
                "bytecode": "0x" + code,
                "compiler": compiler,
                "contractName": name,
                "deployedBytecode": "0x" + out["evm"]["deployedBytecode"]["object"],
                "sourceHash": digest,
            }
    return artifacts


def render(artifact: dict[str, Any]) -> str:
    return json.dumps(artifact, sort_keys=True, indent=2, ensure_ascii=False) + "\n"


def write_artifacts(artifacts: dict[str, dict[str, Any]], out_dir: Path = ARTIFACTS_DIR) -> list[Path]:
    """Writes one JSON per contract and removes artifacts of contracts that no longer exist."""
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for name, doc in sorted(artifacts.items()):
        path = out_dir / f"{name}.json"
        tmp = path.with_suffix(".json.tmp")
        tmp.write_text(render(doc), encoding="utf-8")
        os.replace(tmp, path)
        written.append(path)
    for stale in sorted(out_dir.glob("*.json")):
        if stale.stem not in artifacts:
            stale.unlink()
    return written


def main() -> int:
    logging.basicConfig(level=logging.WARNING, format="%(message)s")
    try:
        paths = write_artifacts(compile_contracts())
    except CompileError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    for path in paths:
        doc = json.loads(path.read_text(encoding="utf-8"))
        size = (len(doc["deployedBytecode"]) - 2) // 2
        print(f"wrote {path.relative_to(REPO_ROOT)} ({size} bytes runtime, {doc['sourceHash'][:18]}…)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
