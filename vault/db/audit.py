"""Tables of the access log (留痕): queued events, sequenced entries, tree nodes, tree heads.

An access writes its event to ``audit_queue`` in its own transaction (so an access whose entry
cannot be written is refused). The sequencer moves queued events into ``audit_entries`` with
contiguous positions, stores the completed Merkle subtrees, and signs tree heads.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Index, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from vault.db.models import Base


class AuditQueued(Base):
    __tablename__ = "audit_queue"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    entry: Mapped[str] = mapped_column(Text)  # canonical JSON of the event, without its position
    created_at: Mapped[int] = mapped_column(BigInteger)


class AuditEntry(Base):
    __tablename__ = "audit_entries"
    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    entry: Mapped[str] = mapped_column(Text)  # canonical JSON including "seq": the leaf's preimage
    leaf_hash: Mapped[bytes] = mapped_column(LargeBinary)
    # HMAC of the leaf hash under a key derived from the master key: whoever can write the
    # database but not read the master key cannot forge, move or alter an entry unseen.
    mac: Mapped[bytes] = mapped_column(LargeBinary)
    at: Mapped[int] = mapped_column(BigInteger)
    action: Mapped[str] = mapped_column(String(48))
    outcome: Mapped[str] = mapped_column(String(8))
    actor_role: Mapped[str] = mapped_column(String(16))
    actor: Mapped[str] = mapped_column(String(66))
    official: Mapped[str | None] = mapped_column(String(42))
    subject_id: Mapped[str | None] = mapped_column(String(66))
    grant_id: Mapped[str | None] = mapped_column(String(66))
    request_id: Mapped[str | None] = mapped_column(String(64))

    __table_args__ = (
        Index("ix_audit_subject", "subject_id", "seq"),
        Index("ix_audit_actor", "actor", "seq"),
        Index("ix_audit_official", "official", "seq"),
        Index("ix_audit_grant", "grant_id", "seq"),
        Index("ix_audit_action", "action", "seq"),
        Index("ix_audit_at", "at"),
    )


class AuditNode(Base):
    """A perfect subtree's hash, level >= 1 (level 0 is ``AuditEntry.leaf_hash``)."""

    __tablename__ = "audit_nodes"
    level: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    idx: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    hash: Mapped[bytes] = mapped_column(LargeBinary)


class AuditHead(Base):
    """A signed tree head; anchored on chain through the outbox."""

    __tablename__ = "audit_heads"
    tree_size: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    root: Mapped[bytes] = mapped_column(LargeBinary)
    signed_at: Mapped[int] = mapped_column(BigInteger)
    signature: Mapped[str] = mapped_column(String(132))
    # The sm suite's SM2 signature of the same head text (r || s hex), beside the secp256k1 one
    # the chain checks; None for heads signed in the intl suite.
    sm2_signature: Mapped[str | None] = mapped_column(String(128), default=None)
    status: Mapped[str] = mapped_column(String(16))  # pending | anchored | superseded | failed
    tx_hash: Mapped[str | None] = mapped_column(String(66))
    block_number: Mapped[int | None] = mapped_column(BigInteger)
