"""Mixed traffic while the API, the node and PostgreSQL are each killed with -9 and started
again (issue 12; the long run is bench/load_and_kill.py): every answer a success or a 503 with
a reason, nothing hangs, nothing answered 201 is lost, nothing lands on chain twice, and every
read has its access-log entry. The machinery is in tests/support/chaos.py."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from tests.support import chaos

pytestmark = pytest.mark.integration
PG_PORT = 55460  # a cluster of its own: this test kills it


def test_traffic_survives_each_dependency_killed(tmp_path: Path) -> None:
    cluster = chaos.Cluster(tmp_path, PG_PORT)
    cluster.start_pg()
    try:
        cluster.start_node()
        cluster.start_vault()
        said: list[str] = []
        kills = [(5.0, "vault", 0.5), (13.0, "node", 1.5), (21.0, "postgres", 1.5)]
        outcome, long_grant = asyncio.run(chaos.run(cluster, 30.0, kills, said.append))
        db = asyncio.run(chaos.settled(cluster))
        chain = chaos.on_chain(cluster.node_url, db["deployment"], db)
    finally:
        cluster.stop()
    assert len(said) == 6, said
    # The run did real work on both sides of every kill.
    assert len(outcome.records) >= 20 and len(outcome.grants) >= 10 and outcome.reads >= 50, outcome
    assert sum(chain["heads"].values()) >= 2, chain["heads"]
    assert chaos.check(outcome, db, chain, long_grant) == []
