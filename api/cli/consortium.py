"""`datavault consortium genesis`: the genesis file and validator keys of a Besu QBFT network
to run the vault on (registered by `api.cli`).

Writes DIR/genesis.json and, for each validator, DIR/validator-N/key (its node key, 0600,
never printed) and key.pub: a node started with --data-path=DIR/validator-N finds its key
there. Prints the validators, the Besu options every node needs and the DATAVAULT_* settings
for the vault. DIR must be new or empty: keys are never overwritten. CONSORTIUM.md says
the rest (FISCO BCOS, finality, contract sizes).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import TYPE_CHECKING

from api.cli.common import CliError, say

if TYPE_CHECKING:
    from chain.consortium import NodeKey

# The flag each genesis setting comes from, to name it in a refusal.
_FLAGS = {"validators": "--validators", "block_period": "--block-period", "chain_id": "--chain-id", "alloc": "--alloc"}
RPC_PORT = 8545  # Besu's default JSON-RPC port
P2P_PORT = 30303  # Besu's default P2P port


def _empty_dir(text: str) -> Path:
    path = Path(text)
    if path.exists() and not path.is_dir():
        raise CliError(f"--out {text}: exists and is not a directory")
    if path.is_dir() and any(path.iterdir()):
        raise CliError(f"--out {text}: not empty; node keys are never overwritten, choose a new directory")
    return path


def next_steps(out: Path, keys: list[NodeKey], chain_id: int) -> str:
    """What to do with the files: start each node, then point the vault at them."""
    boot = keys[0]
    lines = ["validators (extraData order):"]
    lines += [f"  validator-{n}  {k.address}  enode id {k.node_id[:16]}…" for n, k in enumerate(keys, 1)]
    lines += [
        "",
        "next steps:",
        f"  1. Copy {out / 'genesis.json'} and {out}/validator-N/ to validator N's machine (HOST_N below).",
        "  2. Start each node with the same genesis; validator 1 is the others' bootnode:",
        "       besu --data-path=validator-N --genesis-file=genesis.json --min-gas-price=0 \\",
        f"            --p2p-port={P2P_PORT} --rpc-http-enabled --rpc-http-port={RPC_PORT} \\",
        "            --rpc-http-api=ETH,NET,WEB3,QBFT --host-allowlist=<the vault's host> \\",
        f"            --bootnodes={boot.enode('HOST_1', P2P_PORT)}",
        "     (every node needs --min-gas-price=0: one with a higher minimum drops the vault's",
        "     transactions; a QBFT block is final once made, so a receipt is all the vault waits for)",
        "  3. Run the vault on them, with a key of your own for the operator account (not a node key):",
        "       DATAVAULT_CHAIN=rpc",
        "       DATAVAULT_RPC_URL=" + ",".join(f"http://HOST_{n}:{RPC_PORT}" for n in range(1, len(keys) + 1)),
        "       DATAVAULT_SIGNER_KEY=<the operator's private key, hex>",
        "       DATAVAULT_ZERO_GAS=true",
        f"     (chain id {chain_id}; the URLs are tried in turn when one node does not answer)",
    ]
    return "\n".join(lines)


def cmd_genesis(args: argparse.Namespace) -> int:
    out = _empty_dir(args.out)
    # Imported here: eth-account and rlp take a while, and a mistyped flag should not wait.
    from chain import consortium

    try:
        params = consortium.QbftParams(chain_id=args.chain_id, block_period=args.block_period)
        consortium.check_validator_count(args.validators)
        alloc = dict.fromkeys(args.alloc, consortium.ALLOC_BALANCE)
        keys = sorted(
            (consortium.NodeKey.create() for _ in range(args.validators)),
            key=lambda k: bytes.fromhex(k.address[2:]),
        )
        genesis = consortium.qbft_genesis(params, [k.address for k in keys], alloc)
    except consortium.ConsortiumError as exc:
        raise CliError(f"{_FLAGS.get(exc.setting, exc.setting)}: {exc}") from None
    except consortium.ExtraDataError as exc:
        raise CliError(f"--alloc: {exc}") from None
    try:
        out.mkdir(mode=0o700, parents=True, exist_ok=True)
        for n, key in enumerate(keys, 1):
            consortium.write_key_files(key, out / f"validator-{n}")
        (out / "genesis.json").write_text(json.dumps(genesis, indent=2) + "\n", encoding="utf-8")
    except OSError as exc:
        raise CliError(f"cannot write to {out}: {exc.strerror or exc}") from None
    if args.validators < consortium.BFT_MINIMUM:
        say(f"note: {args.validators} validator(s) cannot tolerate a faulty one; QBFT needs 4 for that")
    print(
        f"wrote {out / 'genesis.json'}: QBFT, chain id {params.chain_id}, {len(keys)} validators, "
        f"a block every {params.block_period} s, zero gas"
    )
    print(f"wrote {len(keys)} node keys: {out}/validator-1/key … validator-{len(keys)}/key (0600, not shown)\n")
    print(next_steps(out, keys, params.chain_id))
    return 0


def add_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("consortium", help="settings for running the vault on a consortium chain")
    commands = p.add_subparsers(dest="consortium_command", required=True)
    g = commands.add_parser(
        "genesis",
        help="write a Besu QBFT genesis file and the validators' node keys",
        description=(__doc__ or "").split("\n\n", 1)[1],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    g.add_argument("--validators", type=int, default=4, metavar="N", help="how many validators (default 4)")
    g.add_argument("--block-period", type=int, default=2, metavar="SECONDS", help="seconds between blocks (default 2)")
    g.add_argument("--chain-id", type=int, required=True, help="the network's chain id (EIP-155)")
    g.add_argument("--out", required=True, metavar="DIR", help="a new or empty directory for the files")
    g.add_argument(
        "--alloc",
        action="append",
        default=[],
        metavar="ADDRESS",
        help="give this account a balance in the genesis (repeatable; gas is free, so optional)",
    )
    g.set_defaults(func=cmd_genesis)
