"""`datavault`: run the vault, seed it, and issue or verify credentials from a terminal;
grants and agents (consent, signed locally) are in `api.cli_grants`, the access log
(auditors' `audit ...`, subjects' `access-log`) in `api.cli_audit`.

Terminal commands talk to the running vault over its API with keys from the data
directory's keystore, so the server stays the only writer and the only nonce owner.

Exit codes: 0 success (for ``verify``: valid), 1 ``verify`` found the credential invalid,
2 the command could not be carried out (bad input, no vault, refused by the API), 130 Ctrl-C.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from api.client import DEFAULT_DATADIR, ClientError, VaultClient, command, discover, elsewhere
from chain.errors import ChainError
from vault.errors import VaultError

# `keys` (eth_account), SQLAlchemy and uvicorn are imported by the commands that use them:
# `verify` and a mistyped argument then answer without a second of imports first.
if TYPE_CHECKING:
    from keys import Keystore, SigningKey
    from vault.config import Settings

# vault.config.CHAIN_KINDS, spelled out so that building the parser needs no SQLAlchemy;
# a unit test keeps the two equal.
CHAIN_KINDS = ("anvil", "inprocess", "hardhat", "rpc")

EXIT_INVALID = 1
EXIT_ERROR = 2
DAY = 24 * 3600


class CliError(Exception):
    """A command that cannot be carried out, for a reason the user can fix; printed as is."""


def _settings(args: argparse.Namespace) -> Settings:
    from vault.config import Settings

    return Settings.from_env(
        datadir=args.datadir, chain=getattr(args, "chain", None), rpc_url=getattr(args, "rpc_url", None),
        database_url=getattr(args, "database_url", None),
    )


def keystore(datadir: Path) -> Keystore:
    from keys import Keystore, MasterKey
    from vault.config import Settings

    if not (datadir / "keystore").is_dir():
        # Keys are read from the data directory even with --api: name it, not the URL.
        raise CliError(f"no keystore in {datadir.absolute()}; {elsewhere(datadir, api=False)}")
    return Keystore(datadir / "keystore", MasterKey.load(Settings.from_env(datadir=datadir).master_key_file))


def login_key(datadir: Path, name: str) -> SigningKey:
    from keys import DecryptionError

    store = keystore(datadir)
    if not store.exists(name):  # also rejects names that are not plain file names
        # "-chain" entries are departments' transaction keys, never a login.
        known = ", ".join(n for n in store.names() if not n.endswith("-chain")) or "none"
        raise CliError(f"no key named {name!r} in {store.directory} (known: {known})")
    try:
        return store.load(name)
    except DecryptionError:
        raise CliError(
            f"cannot decrypt key {name!r}: the master key is not the one of {datadir} "
            "(check DATAVAULT_MASTER_KEY and DATAVAULT_MASTER_KEY_FILE)"
        ) from None


def client_factory(args: argparse.Namespace) -> Callable[[], VaultClient]:
    url = args.api or discover(args.datadir)
    return lambda: VaultClient(url)


def print_json(value: Any) -> None:
    print(json.dumps(value, ensure_ascii=False, indent=2))


def write_atomically(path: Path, text: str, what: str) -> None:
    """``text`` into ``path`` whole or not at all: never an empty or half-written file.

    The temporary file is private (0600), as an exported credential holds personal data.
    """
    tmp: Path | None = None
    try:
        fd, name = tempfile.mkstemp(dir=path.absolute().parent, prefix=f".{path.name}.", suffix=".tmp")
        tmp = Path(name)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except OSError as exc:
        if tmp is not None:
            tmp.unlink(missing_ok=True)
        raise CliError(f"cannot write {what} to {path}: {exc.strerror or exc}") from None


def _read_text(source: str, what: str) -> str:
    """Text of file ``source`` ('-' for stdin), or a CliError that says why it cannot be read."""
    try:
        if source == "-":
            return sys.stdin.read()
        return Path(source).read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise CliError(f"cannot read {what} from {source}: not UTF-8 text") from None
    except OSError as exc:
        raise CliError(f"cannot read {what} from {source}: {exc.strerror or exc}") from None


def cmd_up(args: argparse.Namespace) -> int:
    from api.server import StartError, serve

    try:
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
    print(f"Grants: `{command(args.datadir, 'grants --as dept-renshe')}`, then "
          f"`{command(args.datadir, 'read --as dept-renshe <grant id>')}`")
    return 0


def parse_time(text: str, *, start: bool = False) -> int:
    """Unix seconds, an ISO date-time, or a date: valid *through* that day (UTC).

    A certificate "valid until 2027-12-31" is still valid on the 31st; the chain's bound is
    exclusive, so a bare date becomes the midnight that ends it. With ``start`` (a "from"
    bound) a bare date is the midnight that begins it.
    """
    text = text.strip()
    if text.isdigit():
        return int(text)
    try:
        day = date.fromisoformat(text)
    except ValueError:
        pass
    else:
        return (day.toordinal() - date(1970, 1, 1).toordinal() + (0 if start else 1)) * DAY
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise CliError(
            f"{text!r} is not a date: use YYYY-MM-DD (valid through that day, UTC), "
            "an ISO date-time such as 2027-12-31T23:59:59+08:00, or Unix seconds"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp())


def parse_fields(text: str) -> dict[str, Any]:
    """``--fields``: a JSON object, or ``@file.json`` (``@-`` for stdin)."""
    source = "--fields"
    if text.startswith("@"):
        source = f"--fields file {text[1:]}"
        text = _read_text(text[1:], "--fields")
    try:
        fields = json.loads(text)
    except json.JSONDecodeError as exc:
        raise CliError(f"{source} is not valid JSON: {exc}") from None
    if not isinstance(fields, dict) or not fields:
        raise CliError(f"{source} must be a non-empty JSON object, e.g. '{{\"结论\": \"无犯罪记录\"}}'")
    return fields


def cmd_issue(args: argparse.Namespace) -> int:
    # Everything local first, so a typo is reported before any network round trip.
    fields = parse_fields(args.fields)
    valid_until = parse_time(args.valid_until)
    key = login_key(args.datadir, args.as_)
    subject: dict[str, str] = {"subject_id": args.subject_id} if args.subject_id else {"kind": args.kind, "identifier": args.identifier}
    body = {"subject": subject, "type": args.type, "title": args.title, "fields": fields, "valid_until": valid_until}
    with client_factory(args)() as client:
        client.login(key)
        print_json(client.request("POST", "/records", body))
    return 0


def cmd_records(args: argparse.Namespace) -> int:
    if args.export and not args.record:
        raise CliError(f"--export needs a record id: {command(args.datadir, f'records --as {args.as_} <id> --export')}")
    if args.out is not None and args.out.is_dir():
        raise CliError(f"--out {args.out} is a directory; name a file")
    # Nothing reaches stdout or --out until everything has been fetched: a failure leaves
    # `> file` empty and exits 2, and leaves --out FILE as it was.
    key = login_key(args.datadir, args.as_)
    with client_factory(args)() as client:
        client.login(key)
        if not args.record:
            result: Any = client.request("GET", "/me/records")
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


def _credential_body(text: str, source: str) -> dict[str, Any]:
    try:
        presented = json.loads(text)
    except json.JSONDecodeError as exc:
        raise CliError(f"{source} is not valid JSON: {exc}") from None
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
        body = _credential_body(_read_text(args.file, "a credential"), source)
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


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="datavault", description="数字保险箱 data vault",
        epilog="exit codes: 0 ok / valid, 1 verify: invalid, 2 error",
    )
    p.add_argument(
        "--datadir", type=Path, default=Path(os.environ.get("DATAVAULT_DATADIR") or DEFAULT_DATADIR),
        help="data directory (default $DATAVAULT_DATADIR, else .datavault)",
    )
    p.add_argument("--api", help="API base URL (default: the vault running from --datadir)")
    sub = p.add_subparsers(dest="command", required=True)

    up = sub.add_parser("up", help="run the vault: data directory, keys, chain node, API")
    up.add_argument("--host", default="127.0.0.1")
    up.add_argument("--port", type=_port, default=8000, help="default 8000; 0 picks a free port")
    up.add_argument("--chain", choices=CHAIN_KINDS, help="chain engine (default anvil)")
    up.add_argument("--rpc-url", help="JSON-RPC URL for --chain rpc")
    up.add_argument("--database-url", help="database URL (default SQLite in the data directory)")
    up.add_argument("--demo", action="store_true", help="seed sample data once the API is up")
    up.set_defaults(func=cmd_up)

    admin = sub.add_parser("admin-init", help="create the governance admin key (done by `up` too)")
    admin.add_argument("--database-url")
    admin.set_defaults(func=cmd_admin_init)

    demo = sub.add_parser("demo", help="seed sample citizens, an enterprise, departments, credentials, a grant and an agent")
    demo.set_defaults(func=cmd_demo)

    issue = sub.add_parser("issue", help="issue a credential as a department")
    issue.add_argument("--as", dest="as_", required=True, metavar="KEY", help="keystore entry of the department's login key, e.g. dept-gongan")
    who = issue.add_mutually_exclusive_group(required=True)
    who.add_argument("--subject-id")
    who.add_argument("--identifier", help="ID number or credit code (with --kind)")
    issue.add_argument("--kind", choices=["citizen", "enterprise"], default="citizen")
    issue.add_argument("--type", choices=["licence", "certificate", "data"], required=True)
    issue.add_argument("--title", required=True)
    issue.add_argument("--fields", required=True, help="JSON object, or @file.json (@- for stdin)")
    issue.add_argument(
        "--valid-until", required=True,
        help="YYYY-MM-DD (valid through that day, UTC), ISO date-time, or Unix seconds",
    )
    issue.set_defaults(func=cmd_issue)

    recs = sub.add_parser("records", help="list (or show one of) a subject's own records")
    recs.add_argument("--as", dest="as_", required=True, metavar="KEY", help="keystore entry of the subject's login key")
    recs.add_argument("record", nargs="?")
    recs.add_argument("--export", action="store_true", help="print just {document, proof}, ready for `verify`")
    recs.add_argument(
        "--out", type=Path, metavar="FILE",
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

    from api.cli_audit import add_commands as add_audit_commands  # here: they import this module
    from api.cli_bulk import add_commands as add_bulk_commands
    from api.cli_corrections import register as add_correction_commands
    from api.cli_delegations import add_commands as add_delegation_commands
    from api.cli_grants import add_commands
    from api.cli_keys import add_commands as add_key_commands
    from api.cli_presentations import add_commands as add_presentation_commands
    from api.cli_status import add_commands as add_status_commands

    add_commands(sub)
    add_delegation_commands(sub)
    add_audit_commands(sub)
    add_bulk_commands(sub)
    add_correction_commands(sub)
    add_presentation_commands(sub)
    add_status_commands(sub)
    add_key_commands(sub)
    return p


def _user_errors() -> tuple[type[Exception], ...]:
    """Errors that mean "cannot do that" (bad input, no vault, refused), not a bug."""
    errors: tuple[type[Exception], ...] = (CliError, ClientError, VaultError, ChainError)
    # `keys` is imported lazily; if it never was, none of its errors can have been raised.
    keys = sys.modules.get("keys")
    return errors + ((keys.KeysError,) if keys is not None else ())


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        code: int = args.func(args)
        sys.stdout.flush()
        return code
    except _user_errors() as exc:
        print(f"datavault: {exc}", file=sys.stderr)
        return EXIT_ERROR
    except BrokenPipeError:
        # The reader went away (`... | head`): not an error of ours, and Python must not
        # complain again when it flushes stdout at exit.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    # `python -m api.cli`: run the package's copy of this module, the one api.cli_grants
    # imports, so that both raise and catch the same CliError.
    from api.cli import main as package_main

    sys.exit(package_main())
