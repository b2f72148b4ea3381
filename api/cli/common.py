"""What every `datavault` command shares: errors and exit codes, output, reading arguments,
the keystore and logging in to the vault, and checking typed data before it is signed.

The command groups (`api.cli.core`, `api.cli.grants`, ...) import this module and never each
other; `api.cli` builds the parser from them.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from api.client import VaultClient, discover, elsewhere
from vault.record_types import RECORD_TYPES

# `keys` (eth_account), SQLAlchemy and uvicorn are imported by the commands that use them:
# `verify` and a mistyped argument then answer without a second of imports first.
if TYPE_CHECKING:
    from keys import Keystore, SigningKey

EXIT_INVALID = 1
EXIT_ERROR = 2
DAY = 24 * 3600

ROLES = {
    "admin": "the governance admin's key",
    "department": "a department's key",
    "subject": "a citizen's or enterprise's key",
    "delegate": "an agent's or guardian's key",
    "auditor": "an auditor's key",
}
UNTIL = "end: YYYY-MM-DD (valid through that day, UTC), an ISO date-time, or Unix seconds"
FROM = "start (default now): YYYY-MM-DD (from the start of that day, UTC), an ISO date-time, or Unix seconds"

_ADDRESS = re.compile(r"0x[0-9a-fA-F]{40}")
_ID = re.compile(r"0x[0-9a-fA-F]{64}")
_SEPARATORS = re.compile(r"[,，、]")  # people type Chinese commas too


class CliError(Exception):
    """A command that cannot be carried out, for a reason the user can fix; printed as is."""


# -- output ------------------------------------------------------------------------------------


def print_json(value: Any) -> None:
    print(json.dumps(value, ensure_ascii=False, indent=2))


def say(text: str) -> None:
    print(text, file=sys.stderr)


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


def read_text(source: str, what: str) -> str:
    """Text of file ``source`` ('-' for stdin), or a CliError that says why it cannot be read."""
    try:
        if source == "-":
            return sys.stdin.read()
        return Path(source).read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise CliError(f"cannot read {what} from {source}: not UTF-8 text") from None
    except OSError as exc:
        raise CliError(f"cannot read {what} from {source}: {exc.strerror or exc}") from None


# -- reading arguments (all before any network round trip) -------------------------------------


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


class _NotJson(ValueError):
    pass


def _constant(name: str) -> Any:
    raise _NotJson(f"{name} is not a JSON number")


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise _NotJson(f"the number {text[:40]} is too large")
    return value


def load_json(text: str, source: str) -> Any:
    """JSON as the vault accepts it (RFC 8259: no NaN or Infinity, no number too large, only
    valid Unicode), or a CliError naming ``source``. Python's own parser accepts all three, and
    the request would then fail to encode with a traceback instead of a `datavault:` line."""

    def refused(why: str) -> CliError:
        return CliError(f"{source + ' is ' if source else ''}not valid JSON: {why}")

    try:
        value = json.loads(text, parse_constant=_constant, parse_float=_finite)
        json.dumps(value, ensure_ascii=False).encode()
    except json.JSONDecodeError as exc:
        raise refused(str(exc)) from None
    except UnicodeEncodeError:
        raise refused("a string is not valid Unicode (a lone surrogate)") from None
    except RecursionError:
        raise refused("it nests too deeply") from None
    except ValueError as exc:  # _NotJson, or an integer of thousands of digits
        raise refused(str(exc)) from None
    return value


def parse_fields(text: str) -> dict[str, Any]:
    """``--fields``: a JSON object, or ``@file.json`` (``@-`` for stdin)."""
    source = "--fields"
    if text.startswith("@"):
        source = f"--fields file {text[1:]}"
        text = read_text(text[1:], "--fields")
    fields = load_json(text, source)
    if not isinstance(fields, dict) or not fields:
        raise CliError(f'{source} must be a non-empty JSON object, e.g. \'{{"结论": "无犯罪记录"}}\'')
    return fields


def parse_list(text: str, option: str) -> list[str]:
    items = [item.strip() for item in _SEPARATORS.split(text)]
    if not all(items):
        raise CliError(f"{option}: empty item in {text!r}; separate names with commas, e.g. 姓名,准驾车型")
    return list(dict.fromkeys(items))


def parse_types(text: str) -> list[str]:
    types = parse_list(text, "--types")
    unknown = [t for t in types if t not in RECORD_TYPES]
    if unknown:
        raise CliError(f"--types: unknown record type {unknown[0]!r}; use {', '.join(RECORD_TYPES)}")
    return types


def row_id(what: str) -> Callable[[str], int]:
    """An argparse type for a row id (a notice's, say): a whole number the database can hold."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not a {what} id (a whole number): {text!r}") from None
        if not 1 <= value <= 2**63 - 1:
            raise argparse.ArgumentTypeError(f"not a {what} id: {value}")
        return value

    return parse


def parse_id(text: str, what: str = "grant") -> str:
    if not _ID.fullmatch(text.strip()):
        where = (
            "as `datavault grants` lists them"
            if what == "grant"
            else "as `datavault demo` or `datavault delegations` shows it"
        )
        raise CliError(f"{text!r} is not a {what} id: 0x and 64 hex digits, {where}")
    return text.strip().lower()


def parse_window(until_text: str, from_text: str | None, what: str) -> tuple[int | None, int]:
    until = parse_time(until_text)
    start = None if from_text is None else parse_time(from_text, start=True)
    if until <= time.time():
        raise CliError(f"--until {until_text} is already past: the {what} would never be usable")
    if start is not None and start >= until:
        raise CliError(f"--from {from_text} is not before --until {until_text}")
    return start, until


def agent_address(datadir: Path, text: str) -> str:
    """``--agent``: an address, or a keystore entry whose address is meant."""
    if _ADDRESS.fullmatch(text):
        return text
    store = keystore(datadir)
    if not store.exists(text):
        raise CliError(f"--agent {text!r} is neither an address (0x and 40 hex digits) nor a key in {store.directory}")
    return store.address_of(text)


def type_bits(types: list[str]) -> int:
    from vault import record_bits  # web3 comes with it: only for the commands that need it

    return record_bits.bits_of(types)


def type_names(bits: int) -> str:
    from vault import record_bits

    return ", ".join(record_bits.names_of(bits))


def moment(ts: int, *, end: bool = False) -> str:
    """A time as people read a window: an exclusive midnight bound is "the end of" the day before."""
    at = datetime.fromtimestamp(ts, UTC)
    if ts % DAY == 0:
        return f"the end of {(at - timedelta(days=1)).date()}" if end else str(at.date())
    return at.strftime("%Y-%m-%d %H:%M:%S")


def window(start: int, end: int) -> str:
    return f"from {moment(start)} until {moment(end, end=True)} (UTC)"


# -- the keystore and logging in ---------------------------------------------------------------


def keystore(datadir: Path) -> Keystore:
    from keys import Keystore
    from vault.config import Settings

    if not (datadir / "keystore").is_dir():
        # Keys are read from the data directory even with --api: name it, not the URL.
        raise CliError(f"no keystore in {datadir.absolute()}; {elsewhere(datadir, api=False)}")
    return Keystore(datadir / "keystore", Settings.from_env(datadir=datadir).load_master_key())


def login_key(datadir: Path, name: str) -> SigningKey:
    from keys import DecryptionError

    store = keystore(datadir)
    if not store.exists(name):  # also rejects names that are not plain file names
        # "-chain" and "-sm2" entries are departments' signing keys, never a login.
        known = ", ".join(n for n in store.names() if not n.endswith(("-chain", "-sm2"))) or "none"
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


@dataclass
class Login:
    client: VaultClient
    key: SigningKey
    name: str  # the keystore entry
    role: str  # admin | department | subject | delegate
    id: str  # subject id, department code or the delegate's address

    def get(self, path: str) -> Any:
        return self.client.request("GET", path)

    def every(self, path: str, items: str) -> list[Any]:
        """Every item of a paged list, following its cursors."""
        return self.client.every(path, items)

    def post(self, path: str, body: Any = None) -> Any:
        return self.client.request("POST", path, body)

    def signing(self, what: str) -> str:
        return f"signing {what} with {self.name} ({self.key.address}):"


@contextmanager
def logged_in(args: argparse.Namespace) -> Iterator[Login]:
    key = login_key(args.datadir, args.as_)
    with client_factory(args)() as client:
        token = client.login(key)
        yield Login(client, key, args.as_, str(token.get("role")), str(token.get("subject")))


def acting_base(login: Login, for_: str | None, doing: str) -> tuple[str, str]:
    """The API path prefix and the subject id to act as or for: ``/me`` or ``/subjects/{id}``."""
    if for_ is not None:
        return f"/subjects/{for_}", for_
    if login.role == "subject":
        return "/me", login.id
    if login.role == "delegate":
        subjects = ", ".join(login.get("/me/acting-for")) or "nobody at the moment"
        raise CliError(
            f"{login.name!r} is an agent's or guardian's key: name the subject with --for (it acts for {subjects})"
        )
    raise CliError(
        f"{login.name!r} is {ROLES.get(login.role, login.role)}; {doing} takes a citizen's or enterprise's "
        "key, or their agent's with --for"
    )


# -- typed data, checked before it is signed ---------------------------------------------------


def _same(value: Any) -> Any:
    """Typed-data values as compared: addresses and hex in any case, numbers as numbers or text."""
    if isinstance(value, str) and value.startswith("0x"):
        return value.lower()
    if isinstance(value, str) and value.isascii() and value.isdigit():
        return int(value)
    return value


def expect(typed: Any, primary: str, asked: dict[str, Any]) -> dict[str, Any]:
    """The message of ``typed`` if it is a ``primary`` saying what was asked; otherwise sign nothing."""
    message = typed.get("message") if isinstance(typed, dict) else None
    if not isinstance(typed, dict) or typed.get("primaryType") != primary or not isinstance(message, dict):
        raise CliError(f"the vault did not prepare a {primary} to sign; nothing was signed")
    differ = [name for name, value in asked.items() if _same(message.get(name)) != _same(value)]
    if differ:
        raise CliError(
            f"the vault prepared a {primary} whose {', '.join(differ)} differ from what was asked; nothing was signed"
        )
    return message


def grant_nonce_matches(subject_id: str, nonce: Any, gid: str) -> bool:
    """A grant's id is keccak(subject id, nonce): the revocation names the grant it says."""
    from eth_utils.crypto import keccak
    from eth_utils.hexadecimal import decode_hex, encode_hex

    try:
        derived = keccak(decode_hex(subject_id) + int(nonce).to_bytes(32, "big"))
    except (ValueError, TypeError, OverflowError):
        return False
    return encode_hex(bytes(derived)) == gid


def prepared_revocation(login: Login, base: str, sid: str, gid: str) -> dict[str, Any]:
    """The typed data revoking grant ``gid`` of subject ``sid``, checked to revoke exactly that
    grant before anything is signed (`revoke-grant`, and `erase --file` for each live grant)."""
    typed: dict[str, Any] = login.post(f"{base}/grants/{gid}/revoke/prepare")["typed_data"]
    m = expect(typed, "Revocation", {"subject": sid})
    if not grant_nonce_matches(sid, m.get("grantNonce"), gid):
        raise CliError("the vault prepared the revocation of another grant; nothing was signed")
    return typed


def on_chain(typed: dict[str, Any]) -> str:
    domain = typed.get("domain") or {}
    return (
        f"  signed   as EIP-712 {typed['primaryType']} for {domain.get('name')}, "
        f"chain {domain.get('chainId')}, contract {domain.get('verifyingContract')}"
    )


# -- arguments ---------------------------------------------------------------------------------


def int_in(low: int, high: int) -> Callable[[str], int]:
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"must be {low}-{high}, not {value}")
        return value

    return parse


def login_as(p: argparse.ArgumentParser, whose: str) -> None:
    p.add_argument("--as", dest="as_", required=True, metavar="KEY", help=f"keystore entry of {whose}")


def acting_for(p: argparse.ArgumentParser) -> None:
    p.add_argument("--for", dest="for_", metavar="SUBJECT_ID", help="the subject an agent's or guardian's key acts for")
