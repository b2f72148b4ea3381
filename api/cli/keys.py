"""Keys a person holds themselves: `keys list|export|import` and `register` (registered by
`api.cli`).

The vault's keystore wraps each key under the master key; a person takes theirs away as an
Ethereum keystore v3 file (scrypt, AES-128-CTR), the format ethers, geth and MetaMask read,
and brings one back the same way. A registrar registers a subject with the address of a key
the person brings (`--address`, or `--key-file` to read it from their keystore v3 file, which
needs no password: the address is stored beside the ciphertext).

Passwords come from a prompt, or from `--password-file FILE` (its first line; `-` for stdin)
so that scripts and examples need no terminal.
"""

from __future__ import annotations

import argparse
import getpass
import json
import re
import sys
from pathlib import Path
from typing import Any

from api.cli.common import (
    CliError,
    client_factory,
    keystore,
    login_key,
    print_json,
    read_text,
    write_atomically,
)

_ADDRESS = re.compile(r"(0x)?[0-9a-fA-F]{40}")
# The vault's own keys never leave it (a department's chain key signs its anchors, the log key
# its tree heads) and a file brought in never takes their place.
_PLATFORM = re.compile(r"dept-[a-z0-9-]+-(chain|sm2)|audit-log(-sm2)?")
MIN_PASSWORD = 8
# Work factors a keystore file may ask of us, at most: geth's "standard" scrypt (n 2**18, r 8,
# 256 MiB) and a generous PBKDF2 count. A crafted file must not make the CLI spend gigabytes.
MAX_SCRYPT_N, MAX_SCRYPT_R, MAX_SCRYPT_P, MAX_PBKDF2_C = 2**18, 8, 16, 10_000_000


def describe(name: str) -> tuple[str, str]:
    """(kind, what it is) of a keystore entry, by the names the vault and `demo` give keys."""
    if name == "admin":
        return "admin", "the governance admin's login key"
    if name == "audit-log":
        return "platform", "the access log's signing key (signs tree heads; never exported)"
    if name == "audit-log-sm2":
        return "platform", "the access log's SM2 key (signs tree heads in an sm vault; never exported)"
    if match := re.fullmatch(r"dept-([a-z0-9-]+)-sm2", name):
        what = f"department {match.group(1)}'s SM2 key (signs its batch roots in an sm vault; never exported)"
        return "department-sm2", what
    if match := re.fullmatch(r"dept-([a-z0-9-]+)-chain", name):
        return "department-chain", f"department {match.group(1)}'s chain key (signs its transactions; never exported)"
    if match := re.fullmatch(r"dept-([a-z0-9-]+)", name):
        return "department", f"department {match.group(1)}'s login key"
    if name == "auditor" or name.startswith("auditor-"):
        return "auditor", "an auditor's login key"
    if name.startswith(("citizen-", "enterprise-")):
        return "subject", f"a{'n' if name[0] == 'e' else ''} {name.split('-')[0]}'s key (logs in, signs consent)"
    if name.startswith("agent-"):
        return "agent", "an agent's (经办人) key, acting for a subject it is delegated by"
    return "other", "a key imported or made under another name"


def cmd_keys_list(args: argparse.Namespace) -> int:
    store = keystore(args.datadir)
    print_json(
        [
            # An SM2 key has no Ethereum address: its public key instead.
            {"name": name, "public_key": store.sm2_public_key(name).hex, "kind": kind, "what": what}
            if store.is_sm2(name)
            else {"name": name, "address": store.address_of(name), "kind": kind, "what": what}
            for name in store.names()
            for kind, what in [describe(name)]
        ]
    )
    return 0


def read_password(source: str | None, *, confirm: bool) -> str:
    if source is not None:
        text = read_text(source, "the password")
        password = text.splitlines()[0] if text else ""
    else:
        if not sys.stdin.isatty():
            raise CliError("no terminal to ask for the password on: give --password-file FILE (- for stdin)")
        password = getpass.getpass("keystore file password: ")
        if confirm and getpass.getpass("the same password again: ") != password:
            raise CliError("the two passwords differ")
    if not password:
        raise CliError("the password is empty")
    return password


def cmd_keys_export(args: argparse.Namespace) -> int:
    from eth_account import Account

    if _PLATFORM.fullmatch(args.name):
        raise CliError(f"{args.name!r} is one of the vault's own keys ({describe(args.name)[1]}); it is not exported")
    out: Path = args.out
    if out.exists():
        raise CliError(f"{out} exists; a keystore file is never overwritten (name another --out)")
    key = login_key(args.datadir, args.name)
    password = read_password(args.password_file, confirm=True)
    if len(password) < MIN_PASSWORD:
        raise CliError(f"the password must have at least {MIN_PASSWORD} characters: the file may travel")
    v3 = Account.encrypt(key.account.key, password, kdf="scrypt")
    v3["address"] = key.address[2:].lower()  # as geth, ethers and MetaMask write it
    write_atomically(out, json.dumps(v3, indent=2) + "\n", "the keystore file")
    print_json({"name": args.name, "address": key.address, "file": str(out)})
    print(f"wrote {out}: {args.name}'s key ({key.address}), keystore v3 encrypted with scrypt", file=sys.stderr)
    return 0


def _keystore_file(text: str, source: str) -> dict[str, Any]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise CliError(f"{source} is not JSON: {exc}") from None
    if (
        not isinstance(data, dict)
        or data.get("version") != 3
        or not isinstance(data.get("crypto", data.get("Crypto")), dict)
    ):
        raise CliError(f"{source} is not an Ethereum keystore v3 file (version 3, with a crypto object)")
    return data


def _crypto(data: dict[str, Any]) -> dict[str, Any]:
    """The file's crypto object (ethers writes it as ``Crypto``), with lower-case keys."""
    crypto = data.get("crypto", data.get("Crypto"))
    return {str(k).lower(): v for k, v in crypto.items()} if isinstance(crypto, dict) else {}


def _check_work(crypto: dict[str, Any], source: str) -> None:
    kdf, params = crypto.get("kdf"), crypto.get("kdfparams")
    if not isinstance(params, dict):
        raise CliError(f"{source}: the keystore file has no kdfparams")
    numbers = {k: v for k, v in params.items() if isinstance(v, int) and not isinstance(v, bool)}
    if kdf == "scrypt":
        n, r, p = (numbers.get(k, 0) for k in ("n", "r", "p"))
        if not (0 < n <= MAX_SCRYPT_N and 0 < r <= MAX_SCRYPT_R and 0 < p <= MAX_SCRYPT_P):
            raise CliError(
                f"{source}: scrypt parameters n={n}, r={r}, p={p} are outside what is accepted "
                f"(n up to {MAX_SCRYPT_N}, r up to {MAX_SCRYPT_R}, p up to {MAX_SCRYPT_P})"
            )
    elif kdf == "pbkdf2":
        if not 0 < numbers.get("c", 0) <= MAX_PBKDF2_C:
            raise CliError(f"{source}: a PBKDF2 count of {params.get('c')!r} is outside what is accepted")
    else:
        raise CliError(f"{source}: unknown key derivation {kdf!r} (scrypt or pbkdf2)")


def cmd_keys_import(args: argparse.Namespace) -> int:
    from eth_account import Account

    from keys import SigningKey

    store = keystore(args.datadir)
    if _PLATFORM.fullmatch(args.name):
        raise CliError(f"{args.name!r} is a name the vault gives its own keys; import under another name")
    if store.exists(args.name):
        raise CliError(f"a key named {args.name!r} is already in {store.directory}; keys are never overwritten")
    source = "stdin" if args.file == "-" else args.file
    data = _keystore_file(read_text(args.file, "a keystore file"), source)
    _check_work(_crypto(data), source)
    password = read_password(args.password_file, confirm=False)
    try:
        secret = Account.decrypt(data, password)
    except ValueError as exc:
        if "MAC mismatch" in str(exc):
            raise CliError(f"cannot decrypt {source}: wrong password (or the file was altered)") from None
        raise CliError(f"cannot decrypt {source}: {exc}") from None
    except (KeyError, TypeError) as exc:
        raise CliError(f"{source} is not a complete keystore v3 file (missing or malformed {exc})") from None
    key = SigningKey.from_hex(bytes(secret).hex())
    claimed = data.get("address")
    if isinstance(claimed, str) and claimed.lower().removeprefix("0x") != key.address[2:].lower():
        raise CliError(f"{source} names address {claimed} but holds the key of {key.address}; not imported")
    address = store.import_key(args.name, bytes(secret).hex())
    print_json({"name": args.name, "address": address})
    print(f"imported {address} as {args.name!r}: use it with --as {args.name}", file=sys.stderr)
    return 0


def key_file_address(path: str) -> str:
    """The address a keystore v3 file names (stored in the clear beside its ciphertext)."""
    data = _keystore_file(read_text(path, "a keystore file"), path)
    address = data.get("address")
    if not isinstance(address, str) or not _ADDRESS.fullmatch(address):
        raise CliError(f"{path} names no address (ethers, geth and this CLI write one); give --address instead")
    return "0x" + address.lower().removeprefix("0x")


def cmd_register(args: argparse.Namespace) -> int:
    if args.key_file is not None:
        address = key_file_address(args.key_file)
    elif _ADDRESS.fullmatch(args.address) and args.address.startswith("0x"):
        address = args.address
    else:
        raise CliError(f"--address {args.address!r} is not an address (0x and 40 hex digits)")
    key = login_key(args.datadir, args.as_)
    body = {"kind": args.kind, "identifier": args.identifier, "name": args.name, "address": address}
    with client_factory(args)() as client:
        client.login(key)
        print_json(client.request("POST", "/subjects", body))
    return 0


def add_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    keys = sub.add_parser(
        "keys",
        help="the keystore's keys: list them; export one to, or import one from, a keystore v3 file",
        description=(__doc__ or "").split("\n\n", 1)[1],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = keys.add_subparsers(dest="keys_command", required=True, metavar="{list,export,import}")
    ls = commands.add_parser("list", help="every entry: name, address and what it is (no secrets)")
    ls.set_defaults(func=cmd_keys_list)

    password_help = "read the password from FILE's first line (- for stdin) instead of a prompt"
    ex = commands.add_parser("export", help="write a key as a keystore v3 file (ethers, MetaMask, geth import it)")
    ex.add_argument("name", help="keystore entry, e.g. citizen-zhang-san")
    ex.add_argument("--out", type=Path, required=True, metavar="FILE", help="the file to write (never overwritten)")
    ex.add_argument("--password-file", metavar="FILE", help=password_help)
    ex.set_defaults(func=cmd_keys_export)

    im = commands.add_parser("import", help="store the key of a keystore v3 file under a new name")
    im.add_argument("name", help="the new entry's name (an existing one is never overwritten)")
    im.add_argument("file", help="keystore v3 JSON file, - for stdin")
    im.add_argument("--password-file", metavar="FILE", help=password_help)
    im.set_defaults(func=cmd_keys_import)

    reg = sub.add_parser("register", help="register a citizen or enterprise with the key they bring, as a registrar")
    reg.add_argument(
        "--as",
        dest="as_",
        required=True,
        metavar="KEY",
        help="keystore entry of a registrar department's login key, e.g. dept-gongan",
    )
    reg.add_argument("--kind", choices=["citizen", "enterprise"], required=True)
    reg.add_argument("--identifier", required=True, help="resident ID number or unified social credit code")
    reg.add_argument("--name", required=True)
    whose = reg.add_mutually_exclusive_group(required=True)
    whose.add_argument("--address", help="the subject's key: 0x and 40 hex digits")
    whose.add_argument(
        "--key-file", metavar="FILE", help="the subject's keystore v3 file: only its address is read, no password"
    )
    reg.set_defaults(func=cmd_register)
