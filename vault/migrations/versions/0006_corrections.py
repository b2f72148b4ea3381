"""corrections: subjects' correction requests, issuers' decisions, notices to readers

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-26 10:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "corrections",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("record_id", sa.String(length=36), nullable=False),
        sa.Column("record_version", sa.Integer(), nullable=False),
        sa.Column("subject_id", sa.String(length=66), nullable=False),
        sa.Column("issuer_code", sa.String(length=31), nullable=False),
        sa.Column("requested_by", sa.String(length=42), nullable=False),
        sa.Column("wrapped_key", sa.LargeBinary(), nullable=False),
        sa.Column("body", sa.LargeBinary(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("open_record_id", sa.String(length=36), nullable=True),
        sa.Column("decided_by", sa.String(length=42), nullable=True),
        sa.Column("decided_at", sa.BigInteger(), nullable=True),
        sa.Column("note_key", sa.LargeBinary(), nullable=True),
        sa.Column("note_body", sa.LargeBinary(), nullable=True),
        sa.Column("new_version", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["issuer_code"],
            ["departments.code"],
        ),
        sa.ForeignKeyConstraint(
            ["subject_id"],
            ["subjects.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("open_record_id"),
    )
    op.create_index("ix_corrections_record_id", "corrections", ["record_id"], unique=False)
    op.create_index("ix_corrections_subject_id", "corrections", ["subject_id"], unique=False)
    op.create_index("ix_corrections_issuer_code", "corrections", ["issuer_code"], unique=False)
    op.create_table(
        "correction_notices",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("department_code", sa.String(length=31), nullable=False),
        sa.Column("correction_id", sa.String(length=36), nullable=False),
        sa.Column("subject_id", sa.String(length=66), nullable=False),
        sa.Column("record_id", sa.String(length=36), nullable=False),
        sa.Column("old_version", sa.Integer(), nullable=False),
        sa.Column("new_version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("read_at", sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(
            ["correction_id"],
            ["corrections.id"],
        ),
        sa.ForeignKeyConstraint(
            ["department_code"],
            ["departments.code"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_correction_notices_correction_id", "correction_notices", ["correction_id"], unique=False)
    op.create_index("ix_correction_notices_department", "correction_notices", ["department_code", "id"], unique=False)


def downgrade() -> None:
    op.drop_table("correction_notices")
    op.drop_table("corrections")
