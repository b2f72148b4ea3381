"""`datavault status-snapshot`: fetch the signed status snapshot a verifier takes offline
(registered by `api.cli`).

The snapshot's signature is checked here, and that it is for the chain and registry the vault
runs on (GET /health). It is signed by the registry's governance admin; the vault does not
report the admin, so the signer is printed for you to compare with the registry's `admin()`,
and `--signer` refuses any other. stdout (or --out FILE) gets the snapshot as the vault
serves it; one line on stderr says how old it is and what it holds.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from api.cli.common import CliError, client_factory
from api.client import ClientError, VaultClient

if TYPE_CHECKING:
    from vault.presentations.status_snapshot import StatusSnapshot

_ADDRESS = re.compile(r"0x[0-9a-fA-F]{40}")


def fetch(client: VaultClient, *, signer: str | None = None) -> tuple[StatusSnapshot, str]:
    """The vault's current snapshot, checked, and its text."""
    health = client.request("GET", "/health")
    chain: Any = health.get("chain") if isinstance(health, dict) else None
    if not isinstance(chain, dict) or not isinstance(chain.get("registry"), str):
        raise ClientError("the vault's /health names no chain deployment; is it a data vault?")
    payload = client.request("GET", "/status/snapshot")
    # Imported after the answers are parsed: it brings py_ecc, which lifts the recursion limit
    # under which json.loads refuses absurdly nested JSON instead of crashing.
    from vault.presentations import status_snapshot

    # The signature covers the contents, not the bytes: parsed and re-encoded, it is the same.
    snapshot = status_snapshot.decode(json.dumps(payload, ensure_ascii=False), trusted_signer=signer)
    if (snapshot.domain.chain_id, snapshot.domain.registry.lower()) != (
        chain.get("chain_id"),
        chain["registry"].lower(),
    ):
        raise CliError(
            f"the snapshot is for registry {snapshot.domain.registry} on chain {snapshot.domain.chain_id}, "
            f"but the vault runs on registry {chain['registry']} on chain {chain.get('chain_id')}"
        )
    return snapshot, status_snapshot.encode(snapshot)


def summary(snapshot: StatusSnapshot, now: int, *, pinned: bool) -> str:
    age = snapshot.age(now)
    when = f"{age}s old" if age >= 0 else f"made {-age}s in the future (the clocks disagree)"
    active = sum(1 for i in snapshot.issuers if i.active)
    keys = len(snapshot.replaced_keys)
    by = f"signed by {snapshot.signer}" + ("" if pinned else " (compare with the registry's admin(); --signer pins it)")
    return (
        f"status snapshot {when}, {by}: {len(snapshot.issuers)} departments ({active} active), "
        f"{snapshot.revoked_count():,} of {snapshot.size:,} credentials revoked, {keys} replaced "
        f"key{'' if keys == 1 else 's'}"
    )


def cmd_status_snapshot(args: argparse.Namespace) -> int:
    if args.signer is not None and not _ADDRESS.fullmatch(args.signer):
        raise CliError(f"--signer {args.signer!r} is not an address: 0x and 40 hex digits")
    with client_factory(args)() as client:
        snapshot, text = fetch(client, signer=args.signer)
    if args.out is None:
        print(text)
    else:
        try:
            Path(args.out).write_text(text + "\n", encoding="utf-8")
        except OSError as exc:
            raise CliError(f"cannot write the snapshot to {args.out}: {exc.strerror or exc}") from None
    print(summary(snapshot, int(time.time()), pinned=args.signer is not None), file=sys.stderr)
    return 0


def add_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "status-snapshot",
        help="fetch and check the signed status snapshot for verifiers offline",
        description=(__doc__ or "").split("\n\n", 1)[1],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--out", metavar="FILE", help="write the snapshot here (default: stdout)")
    p.add_argument(
        "--signer", metavar="ADDRESS", help="refuse a snapshot not signed by this address (the registry's admin)"
    )
    p.set_defaults(func=cmd_status_snapshot)
