"""Look for plaintext that must never reach the disk."""

from __future__ import annotations

from pathlib import Path


def files_containing(directory: Path, needles: list[str]) -> list[tuple[str, str]]:
    found = []
    for path in directory.rglob("*"):
        if not path.is_file():
            continue
        data = path.read_bytes()
        for needle in needles:
            for encoding in ("utf-8", "utf-16-le"):
                if needle.encode(encoding) in data:
                    found.append((path.name, needle))
    return found
