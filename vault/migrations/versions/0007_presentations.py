"""presentations: status indexes, issuers' batch signatures, presentation nonces, replaced keys

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-24 08:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    counters = op.create_table(
        "counters",
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.Column("value", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )
    # Records issued before version 2 documents have no status index; numbering starts here.
    op.bulk_insert(counters, [{"name": "status_index", "value": 0}])
    op.create_table(
        "presentation_nonces",
        sa.Column("nonce", sa.String(length=34), nullable=False),
        sa.Column("verifier", sa.String(length=31), nullable=True),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("expires_at", sa.BigInteger(), nullable=False),
        sa.Column("used_at", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("nonce"),
    )
    op.create_index("ix_presentation_nonces_expires_at", "presentation_nonces", ["expires_at"], unique=False)
    op.create_table(
        "replaced_subject_keys",
        sa.Column("address", sa.String(length=42), nullable=False),
        sa.Column("subject_id", sa.String(length=66), nullable=False),
        sa.Column("replaced_at", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["subject_id"],
            ["subjects.id"],
        ),
        sa.PrimaryKeyConstraint("address"),
    )
    with op.batch_alter_table("records") as batch:
        batch.add_column(sa.Column("status_index", sa.BigInteger(), nullable=True))
        batch.create_unique_constraint("uq_records_status_index", ["status_index"])
    with op.batch_alter_table("anchor_batches") as batch:
        batch.add_column(sa.Column("issuer_signature", sa.String(length=132), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("anchor_batches") as batch:
        batch.drop_column("issuer_signature")
    with op.batch_alter_table("records") as batch:
        batch.drop_constraint("uq_records_status_index", type_="unique")
        batch.drop_column("status_index")
    op.drop_table("replaced_subject_keys")
    op.drop_index("ix_presentation_nonces_expires_at", table_name="presentation_nonces")
    op.drop_table("presentation_nonces")
    op.drop_table("counters")
