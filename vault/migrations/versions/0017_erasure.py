"""erasure: erasure requests, notices to issuers, retention rules, and when a record or a
whole file was erased

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-01 20:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "erasures",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("subject_id", sa.String(length=66), nullable=False),
        sa.Column("scope", sa.String(length=8), nullable=False),
        sa.Column("record_ids", sa.Text(), nullable=False),
        sa.Column("requested_by_role", sa.String(length=16), nullable=False),
        sa.Column("requested_by", sa.String(length=66), nullable=False),
        sa.Column("basis", sa.String(length=32), nullable=False),
        sa.Column("requested_at", sa.BigInteger(), nullable=False),
        sa.Column("revoked_grants", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["subject_id"], ["subjects.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_erasures_subject_at", "erasures", ["subject_id", "requested_at"])
    op.create_table(
        "erasure_notices",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("department_code", sa.String(length=31), nullable=False),
        sa.Column("erasure_id", sa.String(length=36), nullable=False),
        sa.Column("record_id", sa.String(length=36), nullable=False),
        sa.Column("credential_hash", sa.String(length=66), nullable=False),
        sa.Column("basis", sa.String(length=32), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("read_at", sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(["department_code"], ["departments.code"]),
        sa.ForeignKeyConstraint(["erasure_id"], ["erasures.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_erasure_notices_department", "erasure_notices", ["department_code", "created_at", "id"])
    op.create_table(
        "retention_rules",
        sa.Column("record_type", sa.String(length=16), nullable=False),
        sa.Column("keep_days_after_expiry", sa.Integer(), nullable=False),
        sa.Column("set_by", sa.String(length=66), nullable=False),
        sa.Column("set_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("record_type"),
    )
    with op.batch_alter_table("records", schema=None) as batch_op:
        batch_op.add_column(sa.Column("erased_at", sa.BigInteger(), nullable=True))
    with op.batch_alter_table("subjects", schema=None) as batch_op:
        batch_op.add_column(sa.Column("erased_at", sa.BigInteger(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("subjects", schema=None) as batch_op:
        batch_op.drop_column("erased_at")
    with op.batch_alter_table("records", schema=None) as batch_op:
        batch_op.drop_column("erased_at")
    op.drop_table("retention_rules")
    op.drop_index("ix_erasure_notices_department", table_name="erasure_notices")
    op.drop_table("erasure_notices")
    op.drop_index("ix_erasures_subject_at", table_name="erasures")
    op.drop_table("erasures")
