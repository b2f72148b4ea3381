"""A ``solc``-compatible command line over solc-js, for py-solc-x's ``solc_binary``.

py-solc-x runs ``<solc> --version`` and ``<solc> --standard-json [--base-path P]
[--allow-paths P]``. solc-js understands the first two, has no ``--allow-paths`` (it reads
sources from the JSON we pass, so nothing is lost by dropping it), and prints a
``>>> Cannot retry compilation with SMT ...`` line before the JSON, which we strip so that
stdout is pure JSON. Standard library only: it runs as a script.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

SOLC_JS = Path(__file__).resolve().parents[1] / "hardhat-node" / "node_modules" / "solc" / "solc.js"
HINT = "run `npm ci` in hardhat-node/"


def solcjs_command() -> list[str]:
    """The command that runs solc-js; raises FileNotFoundError naming what is missing."""
    node = shutil.which("node")
    if node is None:
        raise FileNotFoundError(f"node (Node.js) is not on PATH; install it, then {HINT}")
    if not SOLC_JS.is_file():
        raise FileNotFoundError(f"solc-js not found at hardhat-node/node_modules/solc; {HINT}")
    return [node, str(SOLC_JS)]


def translate_args(argv: list[str]) -> list[str]:
    """Keeps the flags solc-js knows; drops ``--allow-paths`` and its value."""
    out: list[str] = []
    it = iter(argv)
    for arg in it:
        if arg == "--allow-paths":
            next(it, None)
        elif arg.startswith("--allow-paths="):
            continue
        else:
            out.append(arg)
    return out


def strip_banner(stdout: str) -> str:
    lines = stdout.splitlines(keepends=True)
    while lines and lines[0].startswith(">>>"):
        lines.pop(0)
    return "".join(lines)


def main(argv: list[str]) -> int:
    try:
        cmd = solcjs_command()
    except FileNotFoundError as exc:
        print(str(exc), file=sys.stderr)
        return 127
    stdin = sys.stdin.read() if "--standard-json" in argv else None
    # solc-js exits right after writing; Node flushes a piped stdout asynchronously, so a
    # pipe loses everything past 64 KiB. Writes to a regular file are synchronous.
    with tempfile.TemporaryFile(mode="w+", encoding="utf-8") as out:
        proc = subprocess.run(
            cmd + translate_args(argv),
            input=stdin,
            stdout=out,
            stderr=subprocess.PIPE,
            text=True,
            check=False,
        )
        out.seek(0)
        sys.stdout.write(strip_banner(out.read()))
    sys.stderr.write(proc.stderr)
    return proc.returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
