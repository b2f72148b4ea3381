"""The vault's own commands: `up`, `admin-init`, `demo`, `issue`, `records`, `verify` and
`compile` (registered by `api.cli`).

Terminal commands talk to the running vault over its API with keys from the data
directory's keystore, so the server stays the only writer and the only nonce owner.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from api.cli.common import (
    EXIT_INVALID,
    CliError,
    client_factory,
    keystore,
    login_key,
    print_json,
    read_text,
    write_atomically,
)
from api.cli.parsing import load_json, parse_fields, parse_time
from api.client import command
from vault.config import CHAIN_KINDS
from vault.record_types import RECORD_TYPES

# SQLAlchemy and uvicorn are imported by the commands that use them (see api.cli.common).
if TYPE_CHECKING:
    from keys import SigningKey
    from vault.config import Settings

# vault.interop.w3c_vc.MEDIA_TYPE, named here so that `records` needs none of the vault's imports.
VC_MEDIA_TYPE = "application/vc+jwt"


def _settings(args: argparse.Namespace) -> Settings:
    from vault.config import Settings

    return Settings.from_env(
        datadir=args.datadir,
        chain=getattr(args, "chain", None),
        rpc_url=getattr(args, "rpc_url", None),
        database_url=getattr(args, "database_url", None),
        log_level=getattr(args, "log_level", None),
        log_format=getattr(args, "log_format", None),
    )


def cmd_up(args: argparse.Namespace) -> int:
    from api.server import StartError, serve
    from api.workers import serve_workers

    try:
        if args.workers != 1:
            if args.demo:
                raise StartError("--demo seeds one vault process; run it without --workers")
            return serve_workers(_settings(args), host=args.host, port=args.port, workers=args.workers)
        return serve(_settings(args), host=args.host, port=args.port, demo=args.demo)
    except StartError as exc:
        raise CliError(str(exc)) from None


def cmd_admin_init(args: argparse.Namespace) -> int:
    from api.server import ADMIN_KEY, StartError, admin_init

    try:
        address = admin_init(_settings(args))
    except StartError as exc:
        raise CliError(str(exc)) from None
    print(f"admin key '{ADMIN_KEY}' in {args.datadir / 'keystore'}: {address}")
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from api.demo import seed

    store = keystore(args.datadir)
    ids = seed(client_factory(args), store, print)
    print(f"\nLog in as these subjects with `{command(args.datadir, 'records --as <key>')}`:")
    for name, sid in ids.items():
        print(f"  {name}: subject id {sid}")
    print(
        f"Grants: `{command(args.datadir, 'grants --as dept-renshe')}`, then "
        f"`{command(args.datadir, 'read --as dept-renshe <grant id>')}`"
    )
    print(
        f"The bank's loan: `{command(args.datadir, 'grants --as dept-bank-demo')}`; who read the enterprise's "
        f"data: `{command(args.datadir, 'access-log --as enterprise-minjiang')}`"
    )
    return 0


def cmd_issue(args: argparse.Namespace) -> int:
    # Everything local first, so a typo is reported before any network round trip.
    fields = parse_fields(args.fields)
    valid_until = parse_time(args.valid_until)
    key = login_key(args.datadir, args.as_)
    subject: dict[str, str] = (
        {"subject_id": args.subject_id} if args.subject_id else {"kind": args.kind, "identifier": args.identifier}
    )
    body = {"subject": subject, "type": args.type, "title": args.title, "fields": fields, "valid_until": valid_until}
    with client_factory(args)() as client:
        client.login(key)
        print_json(client.request("POST", "/records", body))
    return 0


def cmd_records(args: argparse.Namespace) -> int:
    for flag, wanted in (("--export", args.export), ("--vc", args.vc)):
        if wanted and not args.record:
            raise CliError(f"{flag} needs a record id: {command(args.datadir, f'records --as {args.as_} <id> {flag}')}")
    if args.out is not None and args.out.is_dir():
        raise CliError(f"--out {args.out} is a directory; name a file")
    # Nothing reaches stdout or --out until everything has been fetched: a failure leaves
    # `> file` empty and exits 2, and leaves --out FILE as it was.
    key = login_key(args.datadir, args.as_)
    if args.vc:
        return _records_vc(args, key)
    with client_factory(args)() as client:
        client.login(key)
        if not args.record:
            result: Any = client.every("/me/records", "records")
        else:
            result = client.request("GET", f"/me/records/{quote(args.record, safe='')}")
    if args.export:
        anchor = result.get("anchor")
        if anchor is None:
            print(
                f"note: record {args.record} is {result.get('status')}, not anchored yet: "
                "`verify` finds it once the vault has anchored it",
                file=sys.stderr,
            )
        result = {"document": result["document"], "proof": anchor["proof"] if anchor else None}
    if args.out is None:
        print_json(result)
    else:
        text = json.dumps(result, ensure_ascii=False, indent=2) + "\n"
        write_atomically(args.out, text, "the credential" if args.export else "the records")
        print(f"wrote {args.out}", file=sys.stderr)
    return 0


def _records_vc(args: argparse.Namespace, key: SigningKey) -> int:
    """The record as a W3C VC 2.0 secured with JOSE: one line of JWS compact (vc+jwt)."""
    with client_factory(args)() as client:
        client.login(key)
        token = client.request_text("GET", f"/me/records/{quote(args.record, safe='')}/vc", VC_MEDIA_TYPE)
    if args.out is None:
        print(token)
    else:
        write_atomically(args.out, token + "\n", "the credential")
        print(f"wrote {args.out}", file=sys.stderr)
    return 0


def _credential_body(text: str, source: str) -> dict[str, Any]:
    presented = load_json(text, source)
    if not isinstance(presented, dict):
        raise CliError(f"{source} is not a credential: expected a JSON object ({{document, proof}} or a bare document)")
    if "document" in presented:
        return {k: presented[k] for k in ("document", "proof") if k in presented}
    return {"document": presented}


def _summary(verdict: dict[str, Any]) -> str:
    if verdict.get("valid"):
        issuer = verdict.get("issuer") or {}
        by = f" issued by {issuer.get('name') or issuer.get('code') or issuer.get('address')}" if issuer else ""
        return f"valid:{by}; every check passed"
    failed = [c for c in verdict.get("checks", []) if not c.get("passed")]
    return "INVALID: " + "; ".join(f"{c.get('name')}: {c.get('reason')}" for c in failed)


def cmd_verify(args: argparse.Namespace) -> int:
    if args.hash:
        body: dict[str, Any] = {"credential_hash": args.hash}
        if args.proof is not None:
            body["proof"] = [p.strip() for p in args.proof.split(",") if p.strip()]
    else:
        if args.proof is not None:
            raise CliError("--proof goes with --hash; a credential file carries its own proof")
        source = "stdin" if args.file == "-" else args.file
        body = _credential_body(read_text(args.file, "a credential"), source)
    with client_factory(args)() as client:
        verdict = client.request("POST", "/verify", body)
    print_json(verdict)
    # stdout stays pure JSON for scripts; the verdict in words goes to the terminal.
    print(_summary(verdict), file=sys.stderr)
    return 0 if verdict["valid"] else EXIT_INVALID


def cmd_compile(_args: argparse.Namespace) -> int:
    from chain.compiler import main as compile_main

    compile_main()
    return 0


def _port(text: str) -> int:
    try:
        port = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a port number: {text!r}") from None
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"port must be 0-65535 (0: any free port), not {port}")
    return port


def add_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    up = sub.add_parser("up", help="run the vault: data directory, keys, chain node, API")
    up.add_argument("--host", default="127.0.0.1")
    up.add_argument("--port", type=_port, default=8000, help="default 8000; 0 picks a free port")
    up.add_argument("--chain", choices=CHAIN_KINDS, help="chain engine (default anvil)")
    up.add_argument("--rpc-url", help="JSON-RPC URL for --chain rpc")
    up.add_argument("--database-url", help="database URL (default SQLite in the data directory)")
    up.add_argument("--demo", action="store_true", help="seed sample data once the API is up")
    up.add_argument(
        "--workers",
        type=int,
        default=1,
        help="processes answering on the port (default 1); more need PostgreSQL and --chain rpc",
    )
    up.add_argument(
        "--log-level",
        choices=("debug", "info", "warning", "error", "critical"),
        help="least severe level logged (default $DATAVAULT_LOG_LEVEL, else info)",
    )
    up.add_argument(
        "--log-format",
        choices=("text", "json"),
        help="text for a terminal, json (one object per line) for a log collector "
        "(default $DATAVAULT_LOG_FORMAT, else text)",
    )
    up.set_defaults(func=cmd_up)

    admin = sub.add_parser("admin-init", help="create the governance admin key (done by `up` too)")
    admin.add_argument("--database-url")
    admin.set_defaults(func=cmd_admin_init)

    demo = sub.add_parser(
        "demo", help="seed sample citizens, an enterprise, departments, credentials, a grant and an agent"
    )
    demo.set_defaults(func=cmd_demo)

    issue = sub.add_parser("issue", help="issue a credential as a department")
    issue.add_argument(
        "--as",
        dest="as_",
        required=True,
        metavar="KEY",
        help="keystore entry of the department's login key, e.g. dept-gongan",
    )
    who = issue.add_mutually_exclusive_group(required=True)
    who.add_argument("--subject-id")
    who.add_argument("--identifier", help="ID number or credit code (with --kind)")
    issue.add_argument("--kind", choices=["citizen", "enterprise"], default="citizen")
    issue.add_argument("--type", choices=RECORD_TYPES, required=True)
    issue.add_argument("--title", required=True)
    issue.add_argument("--fields", required=True, help="JSON object, or @file.json (@- for stdin)")
    issue.add_argument(
        "--valid-until",
        required=True,
        help="YYYY-MM-DD (valid through that day, UTC), ISO date-time, or Unix seconds",
    )
    issue.set_defaults(func=cmd_issue)

    recs = sub.add_parser("records", help="list (or show one of) a subject's own records")
    recs.add_argument(
        "--as", dest="as_", required=True, metavar="KEY", help="keystore entry of the subject's login key"
    )
    recs.add_argument("record", nargs="?")
    shape = recs.add_mutually_exclusive_group()
    shape.add_argument("--export", action="store_true", help="print just {document, proof}, ready for `verify`")
    shape.add_argument(
        "--vc", action="store_true", help="print it as a W3C VC 2.0 secured with JOSE (JWS compact, vc+jwt)"
    )
    recs.add_argument(
        "--out",
        type=Path,
        metavar="FILE",
        help="write the JSON to FILE instead of stdout: whole, and only if the command succeeds",
    )
    recs.set_defaults(func=cmd_records)

    ver = sub.add_parser("verify", help="verify a credential against the chain (exit 0 valid, 1 invalid)")
    src = ver.add_mutually_exclusive_group(required=True)
    src.add_argument("file", nargs="?", help="credential JSON ({document, proof} or the bare document), - for stdin")
    src.add_argument("--hash", help="credential hash (0x...)")
    ver.add_argument("--proof", help="comma-separated Merkle proof for --hash")
    ver.set_defaults(func=cmd_verify)

    comp = sub.add_parser("compile", help="recompile the contracts and rewrite the committed artifacts")
    comp.set_defaults(func=cmd_compile)
