"""record pages: an index that walks a subject's records in list order

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02 08:00:00.000000

``GET /me/records`` answers a page at a time, ordered by (created_at, id, version) after a
cursor; with this index a page is a range scan of its own rows, not a sort of all the
subject's records.
"""

from __future__ import annotations

from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        "ix_records_subject_created", "records", ["subject_id", "created_at", "id", "version"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_records_subject_created", table_name="records")
