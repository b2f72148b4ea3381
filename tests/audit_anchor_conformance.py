"""What the audit anchor must do on every chain engine: start at the empty tree, accept only
growing heads from its logger, and keep the whole history in its log.

Test modules provide an ``engine`` fixture (a started Engine)."""

from __future__ import annotations

import hashlib
import os

import pytest
from eth_account import Account
from eth_account.signers.local import LocalAccount

from chain.audit_anchor import EMPTY_ROOT, AuditAnchorClient
from chain.deployment import deploy, verify_deployment
from chain.engines import Engine
from chain.errors import ChainRevertError


@pytest.fixture
def anchor(engine: Engine) -> AuditAnchorClient:
    dep = deploy(engine, engine.dev_account())
    verify_deployment(engine.w3, dep)
    return AuditAnchorClient(engine.w3, dep.audit)


def refused(client: AuditAnchorClient, sender: LocalAccount, name: str, size: int, root: bytes) -> None:
    w3 = client.w3
    before = (w3.eth.block_number, w3.eth.get_transaction_count(sender.address))
    with pytest.raises(ChainRevertError) as info:
        client.anchor(sender, size, root)
    assert info.value.error_name == name, info.value
    assert (w3.eth.block_number, w3.eth.get_transaction_count(sender.address)) == before


def test_starts_at_the_empty_tree(anchor: AuditAnchorClient, engine: Engine) -> None:
    assert hashlib.sha256(b"").digest() == EMPTY_ROOT
    latest = anchor.latest()
    assert (latest.tree_size, latest.root) == (0, EMPTY_ROOT) and latest.anchored_at > 0
    assert [(h.tree_size, h.root) for h in anchor.heads()] == [(0, EMPTY_ROOT)]
    assert anchor.logger() == engine.dev_account().address


def test_heads_grow_and_the_log_keeps_them_all(anchor: AuditAnchorClient, engine: Engine) -> None:
    logger = engine.dev_account()
    roots = [os.urandom(32) for _ in range(3)]
    for size, root in zip((1, 7, 1000), roots, strict=False):
        result = anchor.anchor(logger, size, root)
        assert result.block_number > 0
    latest = anchor.latest()
    assert (latest.tree_size, latest.root) == (1000, roots[-1])
    assert [(h.tree_size, h.root) for h in anchor.heads()] == [(0, EMPTY_ROOT), *zip((1, 7, 1000), roots, strict=False)]


def test_only_the_logger_anchors_and_only_larger_trees(anchor: AuditAnchorClient, engine: Engine) -> None:
    logger = engine.dev_account()
    stranger: LocalAccount = Account.create()
    engine.fund(stranger.address, 10**17)
    refused(anchor, stranger, "NotLogger", 1, os.urandom(32))
    anchor.anchor(logger, 5, os.urandom(32))
    refused(anchor, logger, "NotGrowing", 5, os.urandom(32))
    refused(anchor, logger, "NotGrowing", 4, os.urandom(32))
    refused(anchor, logger, "EmptyRootForNonEmptyTree", 6, EMPTY_ROOT)
    refused(anchor, logger, "EmptyRootForNonEmptyTree", 6, bytes(32))
    assert anchor.latest().tree_size == 5
