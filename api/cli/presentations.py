"""扫码亮证 from a terminal: `present` (a holder's QR code), `challenge` and `check` (a counter).

`present` asks the vault to prepare a presentation, checks the typed data says what was asked,
signs it locally with the holder's keystore key (as a phone wallet would) and writes the QR
code. `check` verifies a presentation's text or a picture of its QR code, online through the
vault (as a verifier department) or offline against a status snapshot file (an SD-JWT VC
offline with `--aud CODE`: the counter its key binding must name).
Exit codes as for `verify`: 0 valid, 1 invalid, 2 could not check.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from pathlib import Path
from typing import Any

from api.cli.common import (
    EXIT_INVALID,
    CliError,
    Login,
    int_in,
    logged_in,
    login_as,
    parse_list,
    print_json,
    say,
)


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


def cmd_challenge(args: argparse.Namespace) -> int:
    with logged_in(args) as login:
        print_json(login.post("/presentations/challenges"))
    return 0


def _input(args: argparse.Namespace) -> str | bytes:
    if args.image:
        try:
            return Path(args.image).read_bytes()
        except OSError as exc:
            raise CliError(f"cannot read {args.image}: {exc.strerror or exc}") from None
    if args.file:
        if args.text is not None:
            raise CliError("give the presentation's text or --file FILE, not both")
        try:
            return Path(args.file).read_text(encoding="utf-8").strip()
        except (OSError, UnicodeDecodeError) as exc:
            raise CliError(f"cannot read {args.file}: {getattr(exc, 'strerror', None) or exc}") from None
    if args.text is None:
        raise CliError("give the presentation's text (DV1:... or DC1:..., or - for stdin), --file FILE or --image FILE")
    return sys.stdin.read() if args.text == "-" else args.text


def cmd_check(args: argparse.Namespace) -> int:
    given = _input(args)
    if args.offline:
        verdict = _offline(args, given)
    else:
        if not args.as_:
            raise CliError(
                "online checks are made by a verifier department: --as dept-...; or check --offline SNAPSHOT"
            )
        with logged_in(args) as login:
            if isinstance(given, bytes):
                verdict = login.client.request_bytes(
                    "POST", "/presentations/verify/image", given, _image_type(args.image)
                )
            else:
                verdict = login.post("/presentations/verify", {"text": given.strip()})
    print_json(verdict)
    for check in verdict["checks"]:
        say(f"  {'ok  ' if check['passed'] else 'FAIL'} {check['name']}: {check['reason']}")
    say("valid: every check passed" if verdict["valid"] else "INVALID: " + ", ".join(verdict["failed"]))
    return 0 if verdict["valid"] else EXIT_INVALID


def _offline(args: argparse.Namespace, given: str | bytes) -> dict[str, Any]:
    from api.schemas.presentations import verdict_public
    from vault.interop import sd_jwt_format, sd_jwt_offline, urls
    from vault.presentations import status_snapshot
    from vault.presentations import verify as presentation_verify
    from vault.presentations.nonces import FileReplayCache

    try:
        text = Path(args.offline).read_text()
    except OSError as exc:
        raise CliError(f"cannot read the status snapshot {args.offline}: {exc.strerror or exc}") from None
    snapshot = status_snapshot.decode(text, trusted_signer=args.trust)
    replay = FileReplayCache(Path(args.seen)) if args.seen else None
    base = _public_url(args)
    issuer_id = (lambda code: urls.issuer_id(base, code)) if base else None
    if isinstance(given, str) and sd_jwt_format.looks_like(given):
        # An SD-JWT's key binding names the counter it was made for: offline, no login says which.
        if not args.aud:
            raise CliError("an SD-JWT presentation is made for one counter: give its department code with --aud CODE")
        sd = sd_jwt_offline.verify_offline(
            snapshot, given, aud=args.aud, now=int(time.time()), replay=replay, issuer_id=issuer_id
        )
        _note_trust(args, snapshot.signer)
        return verdict_public(sd).model_dump()
    verdict = asyncio.run(
        presentation_verify.verify_offline(
            snapshot,
            given,
            now=int(time.time()),
            replay=replay,
            issuer_id=issuer_id,
        )
    )
    _note_trust(args, snapshot.signer)
    return verdict_public(verdict).model_dump()


def _note_trust(args: argparse.Namespace, signer: str) -> None:
    if args.trust is None:
        say(f"note: the snapshot is signed by {signer}; pass --trust ADDRESS to insist on the registry's admin")


def _public_url(args: argparse.Namespace) -> str | None:
    """The vault's public URL, of which a DC1's ``iss`` may be made: --public-url, else the
    settings' (DATAVAULT_PUBLIC_URL), else --api; None: only the bare issuer code is accepted."""
    from vault.config import Settings

    given: str | None = args.public_url or Settings.from_env().public_url or args.api
    return given


def _image_type(path: str) -> str:
    suffix = Path(path).suffix.lower()
    return {
        ".jpg": "image/jpeg",
        ".jpeg": "image/jpeg",
        ".gif": "image/gif",
        ".bmp": "image/bmp",
        ".webp": "image/webp",
    }.get(suffix, "image/png")


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

    ch = sub.add_parser("challenge", help="a nonce for the next presentation at this counter (verifier department)")
    login_as(ch, "the verifier department's key, e.g. dept-gongan")
    ch.set_defaults(func=cmd_challenge)

    ck = sub.add_parser(
        "check", help="verify a presentation (text or QR image), online or offline (exit 0 valid, 1 invalid)"
    )
    ck.add_argument("text", nargs="?", help="the presentation's text (DV1:... or DC1:...), or - for stdin")
    ck.add_argument("--image", metavar="FILE", help="a picture of the QR code (PNG, JPEG, ...)")
    ck.add_argument(
        "--file", metavar="FILE", help="read the text from FILE (an SD-JWT VC presentation: too long for a QR code)"
    )
    ck.add_argument("--as", dest="as_", metavar="KEY", help="the verifier department's key (online)")
    ck.add_argument(
        "--offline", metavar="SNAPSHOT", help="check against this status snapshot file, without the vault or chain"
    )
    ck.add_argument(
        "--trust", metavar="ADDRESS", help="offline: the snapshot must be signed by this address (the registry's admin)"
    )
    ck.add_argument("--seen", metavar="FILE", help="offline: remember accepted codes in FILE, refusing a second use")
    ck.add_argument(
        "--aud",
        metavar="CODE",
        help="offline, an SD-JWT VC: this counter's department code, which the key binding must name (its aud)",
    )
    ck.add_argument(
        "--public-url",
        metavar="URL",
        help="offline: the vault's public URL; a DC1 code's iss must be its issuer's identifier there "
        "(default: the settings' public URL, else --api; without one only a bare issuer code is accepted)",
    )
    ck.set_defaults(func=cmd_check)
