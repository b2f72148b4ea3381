"""departments: the 颁发机构代码 (统一社会信用代码) a department issues e-licences under

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-01 10:00:00.000000

GB/T 36904 names a licence's issuing authority by its 统一社会信用代码, inside the licence's
identifier (标识) and its type code (类型代码). Optional: a department without one issues as
before, and its exported credentials leave out the two items that need it.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("departments", schema=None) as batch_op:
        batch_op.add_column(sa.Column("authority_code", sa.String(length=18), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("departments", schema=None) as batch_op:
        batch_op.drop_column("authority_code")
