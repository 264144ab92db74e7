"""sampling: village code snapshot, one active draw per county, a reserve used once

Revision ID: 0003_sampling
Revises: 0001_foundation
Create Date: 2026-11-26

- village_draw.village_code: the code used in the HMAC message, frozen at draw time.
- draw: at most one active draw per (cycle, county) (partial unique index).
- replacement: a reserve is activated by at most one replacement (unique reserve_entry_id),
  and a household is replaced at most once outside conflicts (partial unique index).
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0003_sampling'
down_revision = '0001_foundation'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('village_draw', schema=None) as batch_op:
        batch_op.add_column(sa.Column('village_code', sa.String(length=20), nullable=True))
    op.execute("UPDATE village_draw SET village_code = "
               "(SELECT village.code FROM village WHERE village.id = village_draw.village_id)")
    with op.batch_alter_table('village_draw', schema=None) as batch_op:
        batch_op.alter_column('village_code', existing_type=sa.String(length=20), nullable=False)

    op.create_index('uq_draw_one_active', 'draw', ['cycle_id', 'county_id'], unique=True,
                    postgresql_where=sa.text("status = 'active'"),
                    sqlite_where=sa.text("status = 'active'"))

    with op.batch_alter_table('replacement', schema=None) as batch_op:
        batch_op.create_unique_constraint(
            batch_op.f('uq_replacement_reserve_entry_id'), ['reserve_entry_id'])
    op.create_index('uq_replacement_replaced_once', 'replacement', ['replaced_entry_id'],
                    unique=True, postgresql_where=sa.text("NOT is_conflict"),
                    sqlite_where=sa.text("is_conflict = 0"))


def downgrade():
    op.drop_index('uq_replacement_replaced_once', table_name='replacement')
    with op.batch_alter_table('replacement', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_replacement_reserve_entry_id'), type_='unique')
    op.drop_index('uq_draw_one_active', table_name='draw')
    with op.batch_alter_table('village_draw', schema=None) as batch_op:
        batch_op.drop_column('village_code')
