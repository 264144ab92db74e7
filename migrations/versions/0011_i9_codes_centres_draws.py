"""roster codes, village centres, single-village draws

Revision ID: 0011_i9_codes_centres_draws
Revises: 0010_i10_scores_decimal
Create Date: 2026-11-30

- town.code: the 9-digit town part of its villages' codes.
- village.centre_source: roster (村 sheet), estimated (from households) or staff.
- draw.village_id: a draw of one village added after its county's draw; the one-active
  index now covers county draws only.
- village_draw: cycle_id, its own status and void fields (an admin can void one village's
  draw); at most one active village draw per cycle and village.
"""
import sqlalchemy as sa
from alembic import op

revision = "0011_i9_codes_centres_draws"
down_revision = "0010_i10_scores_decimal"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("town", schema=None) as batch_op:
        batch_op.add_column(sa.Column("code", sa.String(length=9), nullable=True))
        batch_op.create_unique_constraint(batch_op.f("uq_town_code"), ["code"])

    with op.batch_alter_table("village", schema=None) as batch_op:
        batch_op.add_column(sa.Column("centre_source", sa.String(length=20), nullable=True))
    op.execute("UPDATE village SET centre_source = 'roster' WHERE lat IS NOT NULL")

    op.drop_index("uq_draw_one_active", table_name="draw")
    with op.batch_alter_table("draw", schema=None) as batch_op:
        batch_op.add_column(sa.Column("village_id", sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f("ix_draw_village_id"), ["village_id"], unique=False)
        batch_op.create_foreign_key(batch_op.f("fk_draw_village_id_village"), "village",
                                    ["village_id"], ["id"])
    op.create_index("uq_draw_one_active", "draw", ["cycle_id", "county_id"], unique=True,
                    postgresql_where=sa.text("status = 'active' AND village_id IS NULL"),
                    sqlite_where=sa.text("status = 'active' AND village_id IS NULL"))

    with op.batch_alter_table("village_draw", schema=None) as batch_op:
        batch_op.add_column(sa.Column("cycle_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("status", sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column("voided_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("voided_by_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("void_reason", sa.Text(), nullable=True))
    op.execute("UPDATE village_draw SET cycle_id = (SELECT draw.cycle_id FROM draw "
               "WHERE draw.id = village_draw.draw_id), status = (SELECT draw.status FROM draw "
               "WHERE draw.id = village_draw.draw_id)")
    with op.batch_alter_table("village_draw", schema=None) as batch_op:
        batch_op.alter_column("cycle_id", existing_type=sa.Integer(), nullable=False)
        batch_op.alter_column("status", existing_type=sa.String(length=20), nullable=False)
        batch_op.create_index(batch_op.f("ix_village_draw_cycle_id"), ["cycle_id"], unique=False)
        batch_op.create_foreign_key(batch_op.f("fk_village_draw_cycle_id_cycle"), "cycle",
                                    ["cycle_id"], ["id"])
        batch_op.create_foreign_key(batch_op.f("fk_village_draw_voided_by_id_user_account"),
                                    "user_account", ["voided_by_id"], ["id"])
    op.create_index("uq_village_draw_one_active", "village_draw", ["cycle_id", "village_id"],
                    unique=True, postgresql_where=sa.text("status = 'active'"),
                    sqlite_where=sa.text("status = 'active'"))


def downgrade():
    op.drop_index("uq_village_draw_one_active", table_name="village_draw")
    with op.batch_alter_table("village_draw", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_village_draw_voided_by_id_user_account"),
                                 type_="foreignkey")
        batch_op.drop_constraint(batch_op.f("fk_village_draw_cycle_id_cycle"), type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_village_draw_cycle_id"))
        for column in ("void_reason", "voided_by_id", "voided_at", "status", "cycle_id"):
            batch_op.drop_column(column)
    op.drop_index("uq_draw_one_active", table_name="draw")
    with op.batch_alter_table("draw", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_draw_village_id_village"), type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_draw_village_id"))
        batch_op.drop_column("village_id")
    op.create_index("uq_draw_one_active", "draw", ["cycle_id", "county_id"], unique=True,
                    postgresql_where=sa.text("status = 'active'"),
                    sqlite_where=sa.text("status = 'active'"))
    with op.batch_alter_table("village", schema=None) as batch_op:
        batch_op.drop_column("centre_source")
    with op.batch_alter_table("town", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_town_code"), type_="unique")
        batch_op.drop_column("code")
