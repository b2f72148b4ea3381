"""`datavault`: run the vault, seed it, and issue or verify credentials from a terminal.

One module per group of commands, each registering its own with ``add_commands(sub)``:
`core` (up, admin-init, demo, issue, records, verify, compile), `grants` (consent, signed
locally), `delegations` (agents), `audit` (auditors' `audit ...`), `access_log` (subjects' `access-log`),
`bulk` (issue-bulk), `corrections`, `erasure` (erase, erasures,
erasure-notices), `retention`, `backups` (backup), `presentations` (present), `checks` (challenge, check),
`sd_jwt` (SD-JWT VC export and key binding), `status`
(status-snapshot), `crypto` (crypto status, crypto migrate), `keys` (keys, register) and
`consortium` (a QBFT genesis and validator keys). They share `common` (errors, output,
login) and `parsing` (arguments) and import nothing of each other; this module builds the parser from them and
runs it.

Terminal commands talk to the running vault over its API with keys from the data
directory's keystore, so the server stays the only writer and the only nonce owner.

Exit codes: 0 success (for ``verify``: valid), 1 ``verify`` found the credential invalid,
2 the command could not be carried out (bad input, no vault, refused by the API), 130 Ctrl-C.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from api.cli import (
    access_log,
    audit,
    backups,
    bulk,
    checks,
    consortium,
    core,
    corrections,
    crypto,
    delegations,
    erasure,
    grants,
    keys,
    presentations,
    retention,
    sd_jwt,
    status,
)
from api.cli.common import EXIT_ERROR, CliError
from api.client import DEFAULT_DATADIR, ClientError
from chain.errors import ChainError
from vault.config import Settings
from vault.errors import VaultError

__all__ = ["main", "parser"]


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="datavault",
        description="数字保险箱 data vault",
        epilog="exit codes: 0 ok / valid, 1 verify: invalid, 2 error",
    )
    p.add_argument(
        "--datadir",
        type=Path,
        help=f"data directory (default $DATAVAULT_DATADIR, else {DEFAULT_DATADIR})",
    )
    p.add_argument("--api", help="API base URL (default: the vault running from --datadir)")
    sub = p.add_subparsers(dest="command", required=True)
    for group in (
        core,
        grants,
        delegations,
        audit,
        access_log,
        bulk,
        corrections,
        erasure,
        retention,
        presentations,
        checks,
        sd_jwt,
        status,
        keys,
        backups,
        consortium,
        crypto,
    ):
        group.add_commands(sub)
    return p


def _user_errors() -> tuple[type[Exception], ...]:
    """Errors that mean "cannot do that" (bad input, no vault, refused), not a bug."""
    errors: tuple[type[Exception], ...] = (CliError, ClientError, VaultError, ChainError)
    # `keys` is imported lazily; if it never was, none of its errors can have been raised.
    key_package = sys.modules.get("keys")
    return errors + ((key_package.KeysError,) if key_package is not None else ())


def parse(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """The command line, with the data directory the settings give when it names none."""
    args = parser().parse_args(argv)
    if args.datadir is None:
        args.datadir = Settings.from_env().datadir
    return args


def main(argv: Sequence[str] | None = None) -> int:
    try:
        args = parse(argv)
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
