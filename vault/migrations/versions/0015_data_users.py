"""data users: departments gain a kind (government, bank, notary, enterprise) and a licence number

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-01 20:00:00.000000

Banks (inclusive-finance loans), notary offices and enterprises read a subject's data under
the subject's grant, as departments do. Every department registered before is a government
one, with no licence number.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("departments", schema=None) as batch_op:
        batch_op.add_column(sa.Column("kind", sa.String(length=16), nullable=False, server_default="government"))
        batch_op.add_column(sa.Column("licence_number", sa.String(length=32), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("departments", schema=None) as batch_op:
        batch_op.drop_column("licence_number")
        batch_op.drop_column("kind")
