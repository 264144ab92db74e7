"""check-ins: an index on (secretary_id, at) for flagging against a bounded window

Revision ID: 0007_i13_checkin_secretary_at
Revises: 0006_discipline_no_data
Create Date: 2026-11-26

A new check-in is flagged against its nearest neighbours in time (the few before and
after it), read through this index instead of the secretary's whole history.
"""
from alembic import op

revision = "0007_i13_checkin_secretary_at"
down_revision = "0006_discipline_no_data"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("checkin", schema=None) as batch_op:
        batch_op.create_index("ix_checkin_secretary_id_at", ["secretary_id", "at"], unique=False)


def downgrade():
    with op.batch_alter_table("checkin", schema=None) as batch_op:
        batch_op.drop_index("ix_checkin_secretary_id_at")
