"""扫码亮证 from a terminal, the counter's side: `challenge` (a nonce for the next code shown)
and `check`, which verifies a presentation's text, a file (an SD-JWT VC) or a picture of its QR
code, online through the vault (as a verifier department) or offline against a status snapshot
file (an SD-JWT VC offline with `--aud CODE`: the counter its key binding must name).
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
    logged_in,
    login_as,
    print_json,
    say,
)


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
    """The vault's public URL, of which a DC1's or an SD-JWT's ``iss`` may be made:
    --public-url, else the settings' (DATAVAULT_PUBLIC_URL), else --api, else the vault running
    from the data directory, if one is (a counter beside its own vault); None: only the bare
    issuer code is accepted."""
    from api.client import ClientError, discover
    from vault.config import Settings

    given: str | None = args.public_url or Settings.from_env().public_url or args.api
    if given is None:
        try:
            given = discover(args.datadir)
        except ClientError:
            return None
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
        help="offline: the vault's public URL; a DC1 code's or an SD-JWT's iss must be its issuer's identifier "
        "there (default: the settings' public URL, else --api, else the vault running from the data directory; "
        "without one only a bare issuer code is accepted)",
    )
    ck.set_defaults(func=cmd_check)
