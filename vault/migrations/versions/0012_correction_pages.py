"""correction pages: indexes that walk a subject's and an issuer's corrections in list order

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-02 10:00:00.000000

``GET /me/corrections``, ``/subjects/{id}/corrections`` and ``GET /corrections`` (with or
without ``status``) answer a page at a time, ordered by (created_at, id) after a cursor
(vault.pages).
"""

from __future__ import annotations

from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_corrections_subject_created", "corrections", ["subject_id", "created_at", "id"], unique=False)
    op.create_index("ix_corrections_issuer_created", "corrections", ["issuer_code", "created_at", "id"], unique=False)
    op.create_index(
        "ix_corrections_issuer_status", "corrections", ["issuer_code", "status", "created_at", "id"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_corrections_issuer_status", table_name="corrections")
    op.drop_index("ix_corrections_issuer_created", table_name="corrections")
    op.drop_index("ix_corrections_subject_created", table_name="corrections")
