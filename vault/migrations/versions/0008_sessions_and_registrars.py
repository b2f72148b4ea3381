"""sessions and registrars: revoked tokens, challenge clients, registrar scope, guardian reasons

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-30 08:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "revoked_tokens",
        sa.Column("jti", sa.String(length=32), nullable=False),
        sa.Column("expires_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("jti"),
    )
    op.create_index("ix_revoked_tokens_expires_at", "revoked_tokens", ["expires_at"], unique=False)
    with op.batch_alter_table("challenges") as batch:
        batch.add_column(sa.Column("client", sa.String(length=64), nullable=False, server_default=""))
        batch.create_index("ix_challenges_client_expires", ["client", "expires_at"], unique=False)
        batch.create_index("ix_challenges_expires_at", ["expires_at"], unique=False)
    with op.batch_alter_table("departments") as batch:
        # Registrars registered before this revision keep registering both kinds.
        batch.add_column(
            sa.Column(
                "subject_kinds",
                sa.String(length=32),
                nullable=False,
                server_default="citizen,enterprise",
            )
        )
    with op.batch_alter_table("subjects") as batch:
        batch.add_column(sa.Column("registered_by", sa.String(length=31), nullable=True))
        batch.create_index("ix_subjects_registered_by", ["registered_by"], unique=False)
    # Who registered each existing subject is in the access log; a subject it does not name
    # stays without a registrar until the admin assigns one.
    op.execute(
        "UPDATE subjects SET registered_by = (SELECT e.actor FROM audit_entries e "
        "WHERE e.action = 'subject.registered' AND e.subject_id = subjects.id "
        "AND e.actor_role = 'registrar' ORDER BY e.seq LIMIT 1)"
    )
    with op.batch_alter_table("delegations") as batch:
        batch.add_column(sa.Column("reason_key", sa.LargeBinary(), nullable=True))
        batch.add_column(sa.Column("reason", sa.LargeBinary(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("delegations") as batch:
        batch.drop_column("reason")
        batch.drop_column("reason_key")
    with op.batch_alter_table("subjects") as batch:
        batch.drop_index("ix_subjects_registered_by")
        batch.drop_column("registered_by")
    with op.batch_alter_table("departments") as batch:
        batch.drop_column("subject_kinds")
    with op.batch_alter_table("challenges") as batch:
        batch.drop_index("ix_challenges_expires_at")
        batch.drop_index("ix_challenges_client_expires")
        batch.drop_column("client")
    op.drop_index("ix_revoked_tokens_expires_at", table_name="revoked_tokens")
    op.drop_table("revoked_tokens")
