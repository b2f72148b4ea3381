"""erasures: the KEK versions each erasure destroyed, so that key backups lose those and only
those (not the versions a move to another crypto suite retired)

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-01 22:00:00.000000

Its own revision rather than a change to 0017: vaults created while 0017 had no such column
must start again with it added.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("erasures", schema=None) as batch_op:
        batch_op.add_column(sa.Column("destroyed_keys", sa.Text(), server_default="[]", nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("erasures", schema=None) as batch_op:
        batch_op.drop_column("destroyed_keys")
