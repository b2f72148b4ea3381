"""sealed grant purposes: the purpose in words sealed under the subject's key

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01 08:00:00.000000

The rows' purposes are sealed when the vault next opens (vault.consent.purposes.seal_plaintext),
not here: sealing needs the subject's key and so the master key, which a migration run from
the ``alembic`` command line never has. Until then ``purpose`` keeps the old words, so it
becomes nullable rather than being dropped.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("grants") as batch:
        batch.add_column(sa.Column("purpose_key", sa.LargeBinary(), nullable=True))
        batch.add_column(sa.Column("purpose_body", sa.LargeBinary(), nullable=True))
        batch.alter_column("purpose", existing_type=sa.Text(), nullable=True)


def downgrade() -> None:
    # A sealed purpose cannot be opened without the master key, and a grant without its words
    # no longer matches its signature: refuse rather than lose them.
    count = sa.text("SELECT COUNT(*) FROM grants WHERE purpose IS NULL")
    sealed = op.get_bind().execute(count).scalar()
    if sealed:
        raise RuntimeError(f"{sealed} grants have sealed purposes; downgrading below 0009 loses them")
    with op.batch_alter_table("grants") as batch:
        batch.alter_column("purpose", existing_type=sa.Text(), nullable=False)
        batch.drop_column("purpose_body")
        batch.drop_column("purpose_key")
