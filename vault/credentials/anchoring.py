"""Grouping pending credentials into Merkle batches: one root, one transaction per issuer.

The batch, its members' proofs and the outbox entry that anchors it are written in one
database transaction, so a crash leaves either no batch or a batch that will be anchored.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass

from eth_utils.hexadecimal import decode_hex, encode_hex
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from chain.merkle import merkle_proof_all, merkle_root
from vault import outbox
from vault.db.models import AnchorBatch, Department, Record

# (issuer, root) -> the issuer's signature of the root: EIP-712, 0x hex
# (vault.presentations.issuer_signatures), or SM2, r || s hex (vault.credentials.root_signatures).
BatchSigner = Callable[[Department, bytes], str]


async def batch_pending(
    session: AsyncSession,
    now: int,
    max_batch: int,
    sign: BatchSigner | None = None,
    sign_sm2: BatchSigner | None = None,
) -> list[AnchorBatch]:
    rows = list(
        await session.scalars(
            select(Record)
            .where(Record.status == "pending", Record.batch_root.is_(None))
            .order_by(Record.created_at, Record.id)
        )
    )
    by_issuer: dict[str, list[Record]] = {}
    for row in rows:
        by_issuer.setdefault(row.issuer_code, []).append(row)
    batches = []
    for code, members in by_issuer.items():
        issuer = await session.get(Department, code)
        assert issuer is not None
        for chunk in _pack(members, max_batch):
            batches.append(_make_batch(session, issuer, chunk, now, sign, sign_sm2))
    return batches


def _pack(members: list[Record], max_batch: int) -> list[list[Record]]:
    """Split one issuer's pending records (in creation order) into batches of at most
    ``max_batch``, without splitting the records of one second (one bulk request, whose
    records share ``created_at``) unless they alone exceed ``max_batch``: a request of up
    to ``max_batch`` credentials is anchored in one transaction even when others wait too."""
    groups: list[list[Record]] = []
    for row in members:
        if groups and groups[-1][0].created_at == row.created_at:
            groups[-1].append(row)
        else:
            groups.append([row])
    chunks: list[list[Record]] = []
    current: list[Record] = []
    for group in groups:
        if current and len(current) + len(group) > max_batch:
            chunks.append(current)
            current = []
        while len(group) > max_batch:
            chunks.append(group[:max_batch])
            group = group[max_batch:]
        current.extend(group)
    if current:
        chunks.append(current)
    return chunks


def _make_batch(
    session: AsyncSession,
    issuer: Department,
    members: list[Record],
    now: int,
    sign: BatchSigner | None,
    sign_sm2: BatchSigner | None = None,
) -> AnchorBatch:
    leaves = [decode_hex(r.credential_hash) for r in members]
    raw_root = merkle_root(leaves)
    root = encode_hex(raw_root)
    proofs = merkle_proof_all(leaves)
    # The on-chain window spans every member; each document also carries its own window,
    # which verification checks too.
    batch = AnchorBatch(
        root=root,
        issuer_code=issuer.code,
        size=len(members),
        valid_from=min(r.valid_from for r in members),
        valid_until=max(r.valid_until for r in members),
        status="pending",
        created_at=now,
        issuer_signature=sign(issuer, raw_root) if sign else None,
        # sm suite only: an intl vault's batches are stored exactly as before.
        sm2_signature=sign_sm2(issuer, raw_root) if sign_sm2 else None,
    )
    session.add(batch)
    for row, proof in zip(members, proofs, strict=False):
        row.batch_root = root
        row.proof = json.dumps([encode_hex(p) for p in proof])
    outbox.enqueue(
        session,
        "issue",
        issuer.chain_key_name,
        {"root": root, "valid_from": batch.valid_from, "valid_until": batch.valid_until},
        now,
    )
    return batch


@dataclass
class Batcher:
    """The submitter's step that batches what is pending at the start of each round."""

    sessions: async_sessionmaker[AsyncSession]
    batch_max: int = 10_000
    sign: BatchSigner | None = None
    sign_sm2: BatchSigner | None = None

    async def __call__(self, now: int) -> list[AnchorBatch]:
        async with self.sessions.begin() as session:
            return await batch_pending(session, now, self.batch_max, self.sign, self.sign_sm2)
