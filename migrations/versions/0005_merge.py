"""merge checkins, sampling, meetings and scores

Revision ID: 0005_merge
Revises: 0002_checkins, 0003_sampling, 0004_meetings_scores
Create Date: 2026-11-25 23:20:47.136995

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0005_merge'
down_revision = ('0002_checkins', '0003_sampling', '0004_meetings_scores')
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
