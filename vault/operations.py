"""Every feature's chain operations, by outbox kind: the table the submitter carries out.

The outbox knows no feature; each feature describes its own writes (``ops`` in its folder) and
they are put together here, once. A kind claimed twice is a mistake found at import.
"""

from __future__ import annotations

from collections.abc import Mapping

from vault.accounts import ops as accounts_ops
from vault.audit import ops as audit_ops
from vault.consent import ops as consent_ops
from vault.credentials import ops as credentials_ops
from vault.outbox import Op


def merged(*tables: Mapping[str, Op]) -> dict[str, Op]:
    out: dict[str, Op] = {}
    for table in tables:
        taken = out.keys() & table.keys()
        if taken:
            raise ValueError(f"outbox kinds claimed twice: {sorted(taken)}")
        out.update(table)
    return out


OPS = merged(accounts_ops.OPS, credentials_ops.OPS, consent_ops.OPS, audit_ops.OPS)

# What each feature checks after a restart, beside the entries recorded above the chain's head.
LOST_CHECKS = (credentials_ops.reanchor_lost,)
