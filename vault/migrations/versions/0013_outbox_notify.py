"""outbox notify: a queued chain write wakes the submitter in whichever worker holds the lead

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-30 16:00:00.000000

With several workers (PostgreSQL), one holds the submitter's advisory lock; a write queued
through another woke it only at its next round (``DATAVAULT_SUBMIT_INTERVAL``). A statement
inserting outbox entries now sends ``NOTIFY datavault_outbox``, delivered when its
transaction commits (never for one rolled back); the leader listens. SQLite has one process,
which wakes its submitter directly.
"""

from __future__ import annotations

from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(
        "CREATE OR REPLACE FUNCTION datavault_outbox_notify() RETURNS trigger LANGUAGE plpgsql AS "
        "$$ BEGIN PERFORM pg_notify('datavault_outbox', ''); RETURN NULL; END $$"
    )
    op.execute(
        "CREATE TRIGGER outbox_notify AFTER INSERT ON outbox "
        "FOR EACH STATEMENT EXECUTE FUNCTION datavault_outbox_notify()"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP TRIGGER IF EXISTS outbox_notify ON outbox")
    op.execute("DROP FUNCTION IF EXISTS datavault_outbox_notify()")
