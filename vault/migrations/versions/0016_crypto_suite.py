"""crypto suite: the suite a vault was initialised with, and what each stored MAC and signature used

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-01 20:00:00.000000

The suite itself is a row of ``settings`` (``crypto_suite``), written when the vault first
opens (``vault.crypto_suite``); an audit entry's MAC says its own algorithm by its length and
first byte (``vault.audit.macs``), so no column is needed for either. A tree head signed in
the sm suite carries an SM2 signature beside its secp256k1 one: ``audit_heads.sm2_signature``
(r || s, 128 hex digits), NULL for heads signed in the intl suite.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("audit_heads", schema=None) as batch_op:
        batch_op.add_column(sa.Column("sm2_signature", sa.String(length=128), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("audit_heads", schema=None) as batch_op:
        batch_op.drop_column("sm2_signature")
