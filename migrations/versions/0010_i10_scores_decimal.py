"""scores that survive an appeal: exact points, input digests, visit review, decisions

Revision ID: 0010_i10_scores_decimal
Revises: 0007_i13_checkin_secretary_at
Create Date: 2026-11-30

- Points become NUMERIC (exact decimals) instead of binary floats: scorecard entries,
  discipline decisions and stored results. Existing values are rounded half up to 2
  decimals (4 for satisfaction shares) on the way.
- Stored results carry a digest of every input at finalising (whole and per part).
- Visits carry a staff review (pending / approved / rejected, reason, who, when).
- `score_decision`: staff decisions before finalising (ties at the 20% line; one person
  assessed in two villages).
"""
import sqlalchemy as sa
from alembic import op

revision = "0010_i10_scores_decimal"
down_revision = "0007_i13_checkin_secretary_at"
branch_labels = None
depends_on = None

POINTS = sa.Numeric(6, 2)
SHARE = sa.Numeric(5, 4)

COLUMNS = {
    "scorecard_entry": {"work_performance": POINTS, "work_discipline": POINTS,
                        "work_evaluation": POINTS},
    "discipline_decision": {"suggested": POINTS, "score": POINTS},
    "score_result": {"mass_evaluation": POINTS, "household_index": POINTS,
                     "meeting_index": POINTS, "household_satisfied_share": SHARE,
                     "meeting_satisfied_share": SHARE, "work_performance": POINTS,
                     "work_discipline": POINTS, "work_evaluation": POINTS, "total": POINTS},
}


def _using(column: str, type_: sa.Numeric) -> str:
    # PostgreSQL: round(numeric) rounds half away from zero, i.e. half up for points.
    return f"round({column}::numeric, {type_.scale})"


def upgrade():
    for table, columns in COLUMNS.items():
        with op.batch_alter_table(table, schema=None) as batch_op:
            for column, type_ in columns.items():
                batch_op.alter_column(column, existing_type=sa.Float(), type_=type_,
                                      postgresql_using=_using(column, type_))
    with op.batch_alter_table("score_result", schema=None) as batch_op:
        batch_op.add_column(sa.Column("input_digest", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("input_parts", sa.JSON(), nullable=True))
    with op.batch_alter_table("visit", schema=None) as batch_op:
        batch_op.add_column(sa.Column("review_status", sa.String(length=20), nullable=False,
                                      server_default="pending"))
        batch_op.add_column(sa.Column("review_reason", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("reviewed_by_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("reviewed_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index(batch_op.f("ix_visit_review_status"), ["review_status"], unique=False)
        batch_op.create_foreign_key("fk_visit_reviewed_by_id_user_account", "user_account",
                                    ["reviewed_by_id"], ["id"])
    with op.batch_alter_table("visit", schema=None) as batch_op:
        batch_op.alter_column("review_status", server_default=None)
    op.create_table(
        "score_decision",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("cycle_id", sa.Integer(), nullable=False),
        sa.Column("county_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("key", sa.String(length=40), nullable=False),
        sa.Column("subject", sa.JSON(), nullable=False),
        sa.Column("chosen", sa.JSON(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("decided_by_id", sa.Integer(), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["county_id"], ["county.id"]),
        sa.ForeignKeyConstraint(["cycle_id"], ["cycle.id"]),
        sa.ForeignKeyConstraint(["decided_by_id"], ["user_account.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("cycle_id", "county_id", "kind", "key"),
    )
    with op.batch_alter_table("score_decision", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_score_decision_county_id"), ["county_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_score_decision_cycle_id"), ["cycle_id"], unique=False)


def downgrade():
    op.drop_table("score_decision")
    with op.batch_alter_table("visit", schema=None) as batch_op:
        batch_op.drop_constraint("fk_visit_reviewed_by_id_user_account", type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_visit_review_status"))
        for column in ("reviewed_at", "reviewed_by_id", "review_reason", "review_status"):
            batch_op.drop_column(column)
    with op.batch_alter_table("score_result", schema=None) as batch_op:
        batch_op.drop_column("input_parts")
        batch_op.drop_column("input_digest")
    for table, columns in COLUMNS.items():
        with op.batch_alter_table(table, schema=None) as batch_op:
            for column, type_ in columns.items():
                batch_op.alter_column(column, existing_type=type_, type_=sa.Float(),
                                      postgresql_using=f"{column}::double precision")
