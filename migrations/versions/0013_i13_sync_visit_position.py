"""visit (cycle_id, lat) index for flagging a sync batch's repeated positions

Revision ID: 0013_i13_sync_visit_position
Revises: 0012_i11_security
Create Date: 2026-11-30

Sync flags only the new visits of a batch and looks up the cycle's visits at the same
rounded position (services/visit_flags.py): a narrow range on `lat` within the cycle,
served by this index instead of a scan of every visit of the cycle.
"""
from alembic import op

revision = "0013_i13_sync_visit_position"
down_revision = "0012_i11_security"
branch_labels = None
depends_on = None


def upgrade():
    op.create_index("ix_visit_cycle_lat", "visit", ["cycle_id", "lat"])


def downgrade():
    op.drop_index("ix_visit_cycle_lat", table_name="visit")
