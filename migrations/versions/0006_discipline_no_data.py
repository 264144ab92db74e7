"""discipline decisions: no suggestion without check-in data

Revision ID: 0006_discipline_no_data
Revises: 0005_merge
Create Date: 2026-11-25

A secretary with no check-in at all in the cycle has no suggested work-discipline score
(it used to be 0); the decision then stores no suggestion.
"""
import sqlalchemy as sa
from alembic import op

revision = "0006_discipline_no_data"
down_revision = "0005_merge"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("discipline_decision", schema=None) as batch_op:
        batch_op.alter_column("suggested", existing_type=sa.Float(), nullable=True)


def downgrade():
    op.execute("UPDATE discipline_decision SET suggested = score WHERE suggested IS NULL")
    with op.batch_alter_table("discipline_decision", schema=None) as batch_op:
        batch_op.alter_column("suggested", existing_type=sa.Float(), nullable=False)
