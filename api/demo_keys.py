"""The demo's people as keystore v3 files, so that the web pages can be tried at once: the
seeder writes them to ``<datadir>/demo-keys/`` under one published password, and the vault's
/demo page offers them for download or straight into the browser.

Only demo keys are ever written here (the demo's citizen, enterprise, agent, auditor and
department officers), never a key of the platform's own, and only by ``datavault demo`` or
``up --demo``: a vault that was not seeded has no such folder and no such page.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from keys import Keystore

FOLDER = "demo-keys"
PASSWORD = "datavault-demo"
# A published password protects nothing, so the files use scrypt's light setting: the page
# opens them in a second, not in ten.
SCRYPT_N = 2**14


def folder(datadir: Path) -> Path:
    return datadir / FOLDER


def write(store: Keystore, names: list[tuple[str, str]], say: Callable[[str], None]) -> Path:
    """Writes each (key name, who) not written yet; returns the folder."""
    from eth_account import Account

    out = folder(store.directory.parent)
    out.mkdir(mode=0o700, exist_ok=True)
    for name, who in names:
        path = out / f"{name}.json"
        if path.exists():
            continue
        key = store.load(name)
        v3: dict[str, Any] = Account.encrypt(key.account.key, PASSWORD, kdf="scrypt", iterations=SCRYPT_N)
        v3["address"] = key.address[2:].lower()
        v3["x-datavault"] = {"name": name, "who": who}
        path.write_text(json.dumps(v3, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    say(f"demo keys: {out} (password {PASSWORD!r}; also at /demo in the pages)")
    return out


def listed(datadir: Path) -> list[dict[str, str]]:
    """The demo keys written for this vault: name, who, address (none if it was never seeded)."""
    found = []
    for path in sorted(folder(datadir).glob("*.json")) if folder(datadir).is_dir() else []:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            about = data["x-datavault"]
            found.append({"name": path.stem, "who": str(about["who"]), "address": "0x" + str(data["address"])})
        except (OSError, ValueError, KeyError, TypeError):
            continue  # not one of ours
    return found
