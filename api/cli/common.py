"""What every `datavault` command shares: errors and exit codes, output, reading arguments,
the keystore and logging in to the vault, and checking typed data before it is signed.

The command groups (`api.cli.core`, `api.cli.grants`, ...) import this module and never each
other; `api.cli` builds the parser from them.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx

from api.client import VaultClient, discover, elsewhere

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

_ADDRESS = re.compile(r"0x[0-9a-fA-F]{40}")


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


def agent_address(datadir: Path, text: str) -> str:
    """``--agent``: an address, or a keystore entry whose address is meant."""
    if _ADDRESS.fullmatch(text):
        return text
    store = keystore(datadir)
    if not store.exists(text):
        raise CliError(f"--agent {text!r} is neither an address (0x and 40 hex digits) nor a key in {store.directory}")
    return store.address_of(text)


def moment(ts: int, *, end: bool = False) -> str:
    """A time as people read a window: an exclusive midnight bound is "the end of" the day before."""
    at = datetime.fromtimestamp(ts, UTC)
    if ts % DAY == 0:
        return f"the end of {(at - timedelta(days=1)).date()}" if end else str(at.date())
    return at.strftime("%Y-%m-%d %H:%M:%S")


def window(start: int, end: int) -> str:
    return f"from {moment(start)} until {moment(end, end=True)} (UTC)"


# -- lists the log pages by sequence number ---------------------------------------------------

PAGE = 1_000  # the API's largest page


def pages(login: Login, path: str, params: dict[str, Any], limit: int | None) -> Iterator[dict[str, Any]]:
    """Every page of a cursor-paged list (``entries`` + ``next``), up to ``limit`` entries."""
    after: int | None = None
    left = limit
    while left is None or left > 0:
        query = {**params, "limit": PAGE if left is None else min(PAGE, left)}
        if after is not None:
            query["after_seq"] = after
        page: dict[str, Any] = login.get(f"{path}?{httpx.QueryParams(query)}")
        yield page
        if left is not None:
            left -= len(page["entries"])
        after = page.get("next")
        if after is None:
            return


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


def login_as(p: argparse.ArgumentParser, whose: str) -> None:
    p.add_argument("--as", dest="as_", required=True, metavar="KEY", help=f"keystore entry of {whose}")


def acting_for(p: argparse.ArgumentParser) -> None:
    p.add_argument("--for", dest="for_", metavar="SUBJECT_ID", help="the subject an agent's or guardian's key acts for")
