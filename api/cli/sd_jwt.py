"""SD-JWT VC from a terminal: `sd-jwt` exports a holder's credential bound to the holder's key,
or (with `--aud`) presents some of its claims with a key binding, as a wallet would.

The holder's public key is derived from the keystore entry (`--as`); its private key signs
the key binding locally and never reaches the vault. `--from FILE` presents an SD-JWT saved
earlier, without asking the vault again. The presentation goes to `datavault check` or
`POST /presentations/verify` at the counter.
"""

from __future__ import annotations

import argparse
import secrets
import sys
import time
from pathlib import Path
from urllib.parse import quote

from api.cli.common import CliError, logged_in, login_as, login_key, say, write_atomically
from api.cli.parsing import parse_list

# vault.interop.sd_jwt_vc's media type (api.routes.sd_jwt_exports.MEDIA_TYPE).
MEDIA_TYPE = "application/dc+sd-jwt"


def _export(args: argparse.Namespace) -> str:
    from vault.interop import jose_keys

    with logged_in(args) as login:
        if login.role != "subject":
            raise CliError(f"{login.name!r} is not a citizen's or enterprise's key: only the holder exports its own")
        body = {"holder_jwk": jose_keys.public_jwk(login.key.account)}
        path = f"/me/records/{quote(args.record, safe='')}/sd-jwt"
        return login.client.request_text("POST", path, MEDIA_TYPE, body)


def _saved(path: str) -> str:
    try:
        return Path(path).read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError) as exc:
        raise CliError(f"cannot read the SD-JWT {path}: {getattr(exc, 'strerror', None) or exc}") from None


def cmd_sd_jwt(args: argparse.Namespace) -> int:
    from vault.errors import VaultValueError
    from vault.interop import jose_keys, sd_jwt_holder

    presenting = args.aud is not None
    if not presenting and (args.fields or args.nonce):
        raise CliError("--fields and --nonce make a presentation: give the counter's --aud too")
    if args.out is not None and args.out.is_dir():
        raise CliError(f"--out {args.out} is a directory; name a file")
    if (args.record is None) == (args.from_ is None):
        raise CliError("name a record id to export, or --from FILE (an SD-JWT saved earlier), one of them")
    issued = _saved(args.from_) if args.from_ else _export(args)
    text = issued
    if presenting:
        key = login_key(args.datadir, args.as_)
        fields = parse_list(args.fields, "--fields") if args.fields else []
        nonce = args.nonce or "0x" + secrets.token_hex(16)  # no challenge: one drawn here, as `present` does
        try:
            text = sd_jwt_holder.present(
                issued,
                fields,
                holder_key=jose_keys.private_jwk(key.account),
                nonce=nonce,
                aud=args.aud,
                now=int(time.time()),
            )
        except VaultValueError as exc:
            raise CliError(exc.reason) from None
        say(
            f"signing a key binding with {args.as_} ({key.address}) for {args.aud}, "
            f"showing {', '.join(fields) or 'no claims (only who issued it)'}"
        )
    if args.out is None:
        print(text)
    else:
        write_atomically(args.out, text + "\n", "the presentation" if presenting else "the credential")
        print(f"wrote {args.out}", file=sys.stderr)
    return 0


def add_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    sd = sub.add_parser(
        "sd-jwt",
        help="a credential as an SD-JWT VC bound to your key; with --aud, a presentation of some claims (holder)",
    )
    login_as(sd, "the holder's key, e.g. citizen-zhang-san")
    sd.add_argument("record", nargs="?", help="record id, as `datavault records` lists them (not with --from)")
    sd.add_argument("--from", dest="from_", metavar="FILE", help="present this saved SD-JWT instead of exporting")
    sd.add_argument("--aud", help="present it to this counter (its department code): adds a key binding JWT")
    sd.add_argument("--fields", help="claims to show, comma-separated, e.g. 姓名,准驾车型 (default: none)")
    sd.add_argument("--nonce", help="the counter's challenge (0x + 32 hex digits), from `datavault challenge`")
    sd.add_argument("--out", type=Path, metavar="FILE", help="write it to FILE instead of stdout")
    sd.set_defaults(func=cmd_sd_jwt)
