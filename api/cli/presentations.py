"""扫码亮证 from a terminal, the holder's side: `present` (a QR code). The counter's side,
`challenge` and `check`, is ``api.cli.checks``.

`present` asks the vault to prepare a presentation, checks the typed data says what was asked,
signs it locally with the holder's keystore key (as a phone wallet would) and writes the QR
code, as `DV1:` or, with `--format cose`, `DC1:`.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from api.cli.common import CliError, Login, logged_in, login_as, print_json, say
from api.cli.parsing import int_in, parse_list


def cmd_present(args: argparse.Namespace) -> int:
    from vault.presentations import qr

    fields = parse_list(args.fields, "--fields") if args.fields else []
    with logged_in(args) as login:
        if login.role != "subject":
            raise CliError(f"{login.name!r} is not a citizen's or enterprise's key: only the holder shows a credential")
        body: dict[str, Any] = {"record_id": args.record, "fields": fields, "ttl": args.ttl}
        if args.nonce:
            body["nonce"] = args.nonce
        if args.format == "cose":
            signed = _present_cose(args, login, body, fields)
        else:
            signed = _present_dv1(args, login, body, fields)
    text: str = signed["text"]
    for path, render in ((args.png, qr.png), (args.svg, qr.svg)):
        if path:
            Path(path).write_bytes(render(text, scale=args.scale))
            say(f"  QR code (version {signed['qr_version']}, {signed['chars']} characters) written to {path}")
    print_json(signed)
    return 0


def _present_dv1(args: argparse.Namespace, login: Login, body: dict[str, Any], fields: list[str]) -> dict[str, Any]:
    prepared = login.post("/me/presentations", body)
    typed = prepared.get("typed_data") if isinstance(prepared, dict) else None
    if (
        not isinstance(typed, dict)
        or typed.get("primaryType") != "Presentation"
        or not isinstance(typed.get("message"), dict)
        or sorted(prepared.get("fields", [])) != sorted(fields)
    ):
        raise CliError("the vault did not prepare a presentation of the fields asked for; nothing was signed")
    message: dict[str, Any] = typed["message"]
    if args.nonce and str(message.get("nonce", "")).lower() != args.nonce.lower():
        raise CliError("the vault prepared a presentation for another nonce; nothing was signed")
    say(
        f"{login.signing('a presentation')} record {args.record}, "
        f"showing {', '.join(fields) or 'no fields (only the header)'}, for {args.ttl} s"
    )
    signed: dict[str, Any] = login.post(
        "/me/presentations/sign", {"unsigned": prepared["unsigned"], "signature": login.key.sign_typed_data(typed)}
    )
    return signed


def _present_cose(args: argparse.Namespace, login: Login, body: dict[str, Any], fields: list[str]) -> dict[str, Any]:
    """DC1: the CWT the vault prepared, read and checked here, signed with ES256K by ``cwt``."""
    from vault.interop import jose_keys
    from vault.presentations import cose_qr

    prepared = login.post("/me/presentations/cose", {**body, "public_key": jose_keys.public_jwk(login.key.account)})
    try:
        cwt = cose_qr.decode(str(prepared.get("unsigned", "")) if isinstance(prepared, dict) else "")
        aad = bytes.fromhex(str(prepared["external_aad"]).removeprefix("0x"))
    except (ValueError, KeyError):
        raise CliError("the vault did not prepare a COSE presentation; nothing was signed") from None
    if sorted(f.name for f in cwt.fields) != sorted(fields):
        raise CliError("the vault did not prepare a presentation of the fields asked for; nothing was signed")
    if args.nonce and "0x" + cwt.nonce.hex() != args.nonce.lower():
        raise CliError("the vault prepared a presentation for another nonce; nothing was signed")
    say(
        f"{login.signing('a COSE presentation')} record {args.record}, "
        f"showing {', '.join(fields) or 'no fields (only the header)'}, for {args.ttl} s"
    )
    key = jose_keys.private_jwk(login.key.account).export_private(as_dict=True)
    signature = cose_qr.sign(prepared["unsigned"], key, aad)
    signed: dict[str, Any] = login.post(
        "/me/presentations/cose/sign", {"unsigned": prepared["unsigned"], "signature": "0x" + signature.hex()}
    )
    return signed


def add_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    pr = sub.add_parser("present", help="show some fields of a credential as a signed, short-lived QR code (holder)")
    login_as(pr, "the holder's key, e.g. citizen-zhang-san")
    pr.add_argument("record", help="record id, as `datavault records` lists them")
    pr.add_argument(
        "--fields", help="fields to show, comma-separated, e.g. 姓名,准驾车型 (default: none, only the header)"
    )
    pr.add_argument("--nonce", help="the counter's challenge (0x + 32 hex digits), from `datavault challenge`")
    pr.add_argument(
        "--ttl", type=int_in(30, 600), default=300, help="seconds the code stays valid (30-600, default 300)"
    )
    pr.add_argument(
        "--format",
        choices=("dv1", "cose"),
        default="dv1",
        help="dv1: the compact DV1: code (default); cose: DC1:, a CWT in COSE_Sign1 (ES256K), for "
        "verifiers that read COSE/CWT (a longer code)",
    )
    pr.add_argument("--png", metavar="FILE", help="write the QR code as PNG")
    pr.add_argument("--svg", metavar="FILE", help="write the QR code as SVG")
    pr.add_argument("--scale", type=int_in(1, 20), default=6, help="pixels per module (default 6)")
    pr.set_defaults(func=cmd_present)
