"""The outbox: chain writes queued in the same database transaction as the data they anchor,
and the one submitter that carries them out, crash after crash.

It knows no feature. Each feature describes its own writes as ``Op``s by kind (its ``ops``
module) and may add a step to every round or a check after a restart; ``vault.operations``
and ``vault.setup`` put them together. Modules: ``queue`` (the table's rows), ``operation``
(what an ``Op`` is), ``submitter`` (rounds, leadership), ``delivery`` (one entry's protocol),
``transitions`` (its states), ``backoff`` (transient errors), ``reconcile`` (after a restart).
"""

from vault.outbox.operation import Op, Payload, TxRequest, contract_call
from vault.outbox.queue import ACTIVE, done_entry, enqueue, payload_of, pending
from vault.outbox.reconcile import LostCheck, requeue
from vault.outbox.submitter import MAX_ATTEMPTS, RoundStep, Submitter

__all__ = [
    "ACTIVE",
    "MAX_ATTEMPTS",
    "LostCheck",
    "Op",
    "Payload",
    "RoundStep",
    "Submitter",
    "TxRequest",
    "contract_call",
    "done_entry",
    "enqueue",
    "payload_of",
    "pending",
    "requeue",
]
