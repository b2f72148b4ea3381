"""SM2 signatures of anchored batch roots, beside the issuers' EIP-712 ones

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-01 21:00:00.000000
"""

from __future__ import annotations

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
