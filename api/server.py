"""`datavault up`: open the vault, make sure an admin exists, serve the API."""

from __future__ import annotations

import asyncio
import json
import os
import threading

import uvicorn

from api.app import create_app
from api.client import VaultClient, api_file
from keys import Keystore, MasterKey
from vault import admins, clock
from vault.config import Settings
from vault.db.engine import create_engine, session_factory
from vault.db.migrate import upgrade

ADMIN_KEY = "admin"


async def bootstrap_admin(settings: Settings) -> str:
    """Create the admin login key and register it, once. Returns the admin address."""
    settings.datadir.mkdir(parents=True, exist_ok=True)
    store = Keystore(settings.keystore_dir, MasterKey.load(settings.master_key_file, create=True))
    address = store.address_of(ADMIN_KEY) if store.exists(ADMIN_KEY) else store.create(ADMIN_KEY)
    db = create_engine(settings.db_url)
    try:
        await upgrade(db)
        async with session_factory(db).begin() as session:
            if await admins.count(session) == 0:
                await admins.add(session, address, "governance admin", clock.now())
    finally:
        await db.dispose()
    return address


def serve(settings: Settings, *, host: str, port: int, demo: bool) -> int:
    asyncio.run(bootstrap_admin(settings))
    url = f"http://{host}:{port}"
    app = create_app(settings=settings)
    config = uvicorn.Config(app, host=host, port=port, log_level="info")
    server = uvicorn.Server(config)
    marker = api_file(settings.datadir)

    def announce() -> None:
        while not server.started:
            if server.should_exit:
                return
            threading.Event().wait(0.1)
        marker.write_text(json.dumps({"url": url, "pid": os.getpid()}))
        print(f"\n数字保险箱 data vault is up: {url}  (API docs {url}/docs)")
        print(f"data directory: {settings.datadir.resolve()}  (SQLite + anvil state; keys in keystore/)")
        if demo:
            from api.demo import seed

            store = Keystore(settings.keystore_dir, MasterKey.load(settings.master_key_file))
            try:
                seed(lambda: VaultClient(url), store, print)
            except Exception as exc:  # noqa: BLE001 - the server keeps running; say what went wrong
                print(f"demo seeding failed: {exc}")
        print("Try: datavault records --as citizen-zhang-san   (Ctrl-C stops the vault)")

    threading.Thread(target=announce, daemon=True).start()
    try:
        server.run()
    finally:
        marker.unlink(missing_ok=True)
    return 0
