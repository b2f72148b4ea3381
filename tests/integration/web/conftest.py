"""The browser tests' fixtures: a vault served on the worker's shared anvil node, and one
Chromium per module."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser

from tests.support.backends import shared_anvil
from tests.support.browser import browser
from tests.support.served import Served, served


@pytest.fixture
def vault(tmp_path: Path) -> Iterator[Served]:
    node = shared_anvil()
    assert node.rpc_url is not None
    key = "0x" + bytes(node.dev_account().key).hex()
    with served(tmp_path, chain="rpc", rpc_url=node.rpc_url, signer_key=key) as s:
        yield s


@pytest.fixture(scope="module")
def chromium() -> Iterator[Browser]:
    with browser() as launched:
        yield launched
