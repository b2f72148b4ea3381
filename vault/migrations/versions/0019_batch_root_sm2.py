"""SM2 signatures of anchored batch roots, beside the issuers' EIP-712 ones

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-01 21:00:00.000000

In the sm suite an issuing department holds an SM2 key beside its chain key; its public key
(04 || x || y, 130 hex digits) is ``departments.sm2_public_key``, and each batch root it
anchors carries its SM2 signature (r || s, 128 hex digits) of
``vault.credentials.root_signatures.root_text`` in ``anchor_batches.sm2_signature``. Both are
NULL in the intl suite and for rows from before this revision: nothing is backfilled, since a
batch already anchored was signed as it was (its EIP-712 signature and the chain still vouch
for it).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("departments", schema=None) as batch_op:
        batch_op.add_column(sa.Column("sm2_public_key", sa.String(length=130), nullable=True))
    with op.batch_alter_table("anchor_batches", schema=None) as batch_op:
        batch_op.add_column(sa.Column("sm2_signature", sa.String(length=128), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("anchor_batches", schema=None) as batch_op:
        batch_op.drop_column("sm2_signature")
    with op.batch_alter_table("departments", schema=None) as batch_op:
        batch_op.drop_column("sm2_public_key")
