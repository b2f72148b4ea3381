"""re-encryption: progress of moving a vault from one crypto suite to the other

One row per run (``vault.db.reencryption``): source and target suite, the phase, the last
subject done (the cursor a restarted job resumes after), counts, times and the last error.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-01 21:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "reencryptions",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("source", sa.String(length=8), nullable=False),
        sa.Column("target", sa.String(length=8), nullable=False),
        sa.Column("phase", sa.String(length=12), nullable=False),
        sa.Column("cursor", sa.String(length=66), nullable=True),
        sa.Column("subjects_moved", sa.Integer(), nullable=False),
        sa.Column("sealed_moved", sa.Integer(), nullable=False),
        sa.Column("records_moved", sa.Integer(), nullable=False),
        sa.Column("keys_destroyed", sa.Integer(), nullable=False),
        sa.Column("started_at", sa.BigInteger(), nullable=False),
        sa.Column("moved_at", sa.BigInteger(), nullable=True),
        sa.Column("finished_at", sa.BigInteger(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("last_error_at", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )


def downgrade() -> None:
    op.drop_table("reencryptions")
