"""`datavault`: run the vault, seed it, and issue or verify credentials from a terminal.

Terminal commands talk to the running vault over its API with keys from the data
directory's keystore, so the server stays the only writer and the only nonce owner.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from api.client import ApiError, VaultClient, discover
from chain.errors import ChainError
from keys import KeysError, Keystore, MasterKey
from vault.config import CHAIN_KINDS, Settings
from vault.errors import VaultError

DEFAULT_DATADIR = Path(".datavault")


def _settings(args: argparse.Namespace) -> Settings:
    return Settings.from_env(
        datadir=args.datadir, chain=getattr(args, "chain", None), rpc_url=getattr(args, "rpc_url", None),
        database_url=getattr(args, "database_url", None),
    )


def _keystore(datadir: Path) -> Keystore:
    if not (datadir / "keystore").exists():
        raise SystemExit(f"datavault: no keystore in {datadir}; run `datavault up` first")
    return Keystore(datadir / "keystore", MasterKey.load(Settings.from_env(datadir=datadir).master_key_file))


def _client(args: argparse.Namespace) -> Callable[[], VaultClient]:
    url = args.api or discover(args.datadir)
    return lambda: VaultClient(url)


def _print(value: Any) -> None:
    print(json.dumps(value, ensure_ascii=False, indent=2))


def cmd_up(args: argparse.Namespace) -> int:
    from api.server import serve

    return serve(_settings(args), host=args.host, port=args.port, demo=args.demo)


def cmd_admin_init(args: argparse.Namespace) -> int:
    from api.server import bootstrap_admin

    address = asyncio.run(bootstrap_admin(_settings(args)))
    print(f"admin key 'admin' in {args.datadir / 'keystore'}: {address}")
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from api.demo import seed

    ids = seed(_client(args), _keystore(args.datadir), print)
    print("\nLog in as these subjects with `datavault records --as <key>`:")
    for name, sid in ids.items():
        print(f"  {name}: subject id {sid}")
    return 0


def _parse_time(text: str) -> int:
    if text.isdigit():
        return int(text)
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise SystemExit(f"datavault: {text!r} is neither Unix seconds nor an ISO date (2031-12-31)") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp())


def cmd_issue(args: argparse.Namespace) -> int:
    fields_text = Path(args.fields[1:]).read_text() if args.fields.startswith("@") else args.fields
    try:
        fields = json.loads(fields_text)
    except json.JSONDecodeError as exc:
        raise SystemExit(f"datavault: --fields is not valid JSON: {exc}") from None
    subject: dict[str, str] = {"subject_id": args.subject_id} if args.subject_id else {"kind": args.kind, "identifier": args.identifier}
    body = {"subject": subject, "type": args.type, "title": args.title, "fields": fields, "valid_until": _parse_time(args.valid_until)}
    with _client(args)() as client:
        client.login(_keystore(args.datadir).load(args.as_))
        _print(client.request("POST", "/records", body))
    return 0


def cmd_records(args: argparse.Namespace) -> int:
    with _client(args)() as client:
        client.login(_keystore(args.datadir).load(args.as_))
        path = f"/me/records/{args.record}" if args.record else "/me/records"
        result = client.request("GET", path)
        _print(result if not (args.record and args.export) else {"document": result["document"], "proof": result["anchor"]["proof"] if result["anchor"] else None})
    return 0


def cmd_verify(args: argparse.Namespace) -> int:
    if args.hash:
        body: dict[str, Any] = {"credential_hash": args.hash}
        if args.proof is not None:
            body["proof"] = [p for p in args.proof.split(",") if p]
    else:
        try:
            presented = json.loads(Path(args.file).read_text() if args.file != "-" else sys.stdin.read())
        except (OSError, json.JSONDecodeError) as exc:
            raise SystemExit(f"datavault: cannot read a credential from {args.file}: {exc}") from None
        body = presented if "document" in presented else {"document": presented}
    with _client(args)() as client:
        verdict = client.request("POST", "/verify", body)
    _print(verdict)
    return 0 if verdict["valid"] else 1


def cmd_compile(_args: argparse.Namespace) -> int:
    from chain.compiler import main as compile_main

    compile_main()
    return 0


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="datavault", description="数字保险箱 data vault")
    p.add_argument("--datadir", type=Path, default=DEFAULT_DATADIR, help="data directory (default .datavault)")
    p.add_argument("--api", help="API base URL (default: the vault running from --datadir)")
    sub = p.add_subparsers(dest="command", required=True)

    up = sub.add_parser("up", help="run the vault: data directory, keys, chain node, API")
    up.add_argument("--host", default="127.0.0.1")
    up.add_argument("--port", type=int, default=8000)
    up.add_argument("--chain", choices=CHAIN_KINDS, help="chain engine (default anvil)")
    up.add_argument("--rpc-url", help="JSON-RPC URL for --chain rpc")
    up.add_argument("--database-url", help="database URL (default SQLite in the data directory)")
    up.add_argument("--demo", action="store_true", help="seed sample data once the API is up")
    up.set_defaults(func=cmd_up)

    admin = sub.add_parser("admin-init", help="create the governance admin key (done by `up` too)")
    admin.add_argument("--database-url")
    admin.set_defaults(func=cmd_admin_init)

    demo = sub.add_parser("demo", help="seed sample citizens, an enterprise, departments and credentials")
    demo.set_defaults(func=cmd_demo)

    issue = sub.add_parser("issue", help="issue a credential as a department")
    issue.add_argument("--as", dest="as_", required=True, help="keystore entry of the department's login key, e.g. dept-gongan")
    who = issue.add_mutually_exclusive_group(required=True)
    who.add_argument("--subject-id")
    who.add_argument("--identifier", help="ID number or credit code (with --kind)")
    issue.add_argument("--kind", choices=["citizen", "enterprise"], default="citizen")
    issue.add_argument("--type", choices=["licence", "certificate", "data"], required=True)
    issue.add_argument("--title", required=True)
    issue.add_argument("--fields", required=True, help="JSON object, or @file.json")
    issue.add_argument("--valid-until", required=True, help="ISO date or Unix seconds")
    issue.set_defaults(func=cmd_issue)

    recs = sub.add_parser("records", help="list (or show one of) a subject's own records")
    recs.add_argument("--as", dest="as_", required=True, help="keystore entry of the subject's login key")
    recs.add_argument("record", nargs="?")
    recs.add_argument("--export", action="store_true", help="print just {document, proof}, ready for `verify`")
    recs.set_defaults(func=cmd_records)

    ver = sub.add_parser("verify", help="verify a credential against the chain (exit 0 valid, 1 invalid)")
    src = ver.add_mutually_exclusive_group(required=True)
    src.add_argument("file", nargs="?", help="credential JSON ({document, proof} or the bare document), - for stdin")
    src.add_argument("--hash", help="credential hash (0x...)")
    ver.add_argument("--proof", help="comma-separated Merkle proof for --hash")
    ver.set_defaults(func=cmd_verify)

    comp = sub.add_parser("compile", help="recompile the contracts and rewrite the committed artifacts")
    comp.set_defaults(func=cmd_compile)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        code: int = args.func(args)
        return code
    except ApiError as exc:
        print(f"datavault: {exc}", file=sys.stderr)
        return 2
    except (VaultError, ChainError, KeysError, FileNotFoundError) as exc:
        print(f"datavault: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
