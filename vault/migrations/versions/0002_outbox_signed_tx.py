"""outbox: the signed transaction of an entry (raw bytes, nonce, sender, when signed)

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24 10:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Batch mode: SQLite cannot alter tables in place; on PostgreSQL these are plain ALTERs.
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.add_column(sa.Column("raw_tx", sa.LargeBinary(), nullable=True))
        batch_op.add_column(sa.Column("nonce", sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column("tx_from", sa.String(length=42), nullable=True))
        batch_op.add_column(sa.Column("signed_at", sa.BigInteger(), nullable=True))


def downgrade() -> None:
    # Without the signed bytes an in-flight entry can only fall back to the older guard:
    # pending, and `applied` decides whether it still has to be sent.
    op.execute(sa.text("UPDATE outbox SET status = 'pending', tx_hash = NULL WHERE status = 'signed'"))
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_column("signed_at")
        batch_op.drop_column("tx_from")
        batch_op.drop_column("nonce")
        batch_op.drop_column("raw_tx")
