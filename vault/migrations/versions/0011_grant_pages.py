"""grant pages: indexes that walk a subject's and a grantee's grants in list order

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02 09:00:00.000000

``GET /me/grants``, ``/subjects/{id}/grants`` and ``GET /grants`` answer a page at a time,
ordered by (created_at, id) after a cursor (vault.pages).
"""

from __future__ import annotations

from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_grants_subject_created", "grants", ["subject_id", "created_at", "id"], unique=False)
    op.create_index("ix_grants_grantee_created", "grants", ["grantee_code", "created_at", "id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_grants_grantee_created", table_name="grants")
    op.drop_index("ix_grants_subject_created", table_name="grants")
