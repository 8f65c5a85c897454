"""impact region estimates: each solution's effect among a region's adopting units, stored with
every impact run ("what worked at similar units", `cxactions impact --by region`)

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06 01:00:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "impact_region_estimates",
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("region_id", sa.Integer(), nullable=False),
        sa.Column("solution_id", sa.Integer(), nullable=False),
        sa.Column("effect", sa.Float(), nullable=True),
        sa.Column("se", sa.Float(), nullable=True),
        sa.Column("ci_low", sa.Float(), nullable=True),
        sa.Column("ci_high", sa.Float(), nullable=True),
        sa.Column("raw_effect", sa.Float(), nullable=True),
        sa.Column("raw_se", sa.Float(), nullable=True),
        sa.Column("n_units", sa.Integer(), nullable=False),
        sa.Column("n_cells", sa.Integer(), nullable=False),
        sa.Column("rank", sa.Integer(), nullable=True),
        sa.Column("enough_evidence", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["impact_runs.id"],
            name=op.f("fk_impact_region_estimates_run_id_impact_runs"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["region_id"],
            ["units.id"],
            name=op.f("fk_impact_region_estimates_region_id_units"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["solution_id"],
            ["solutions.id"],
            name=op.f("fk_impact_region_estimates_solution_id_solutions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "run_id", "region_id", "solution_id", name=op.f("pk_impact_region_estimates")
        ),
    )
    with op.batch_alter_table("impact_region_estimates", schema=None) as batch_op:
        batch_op.create_index("ix_impact_region_estimates_region", ["region_id"], unique=False)
        batch_op.create_index("ix_impact_region_estimates_solution", ["solution_id"], unique=False)


def downgrade():
    with op.batch_alter_table("impact_region_estimates", schema=None) as batch_op:
        batch_op.drop_index("ix_impact_region_estimates_solution")
        batch_op.drop_index("ix_impact_region_estimates_region")

    op.drop_table("impact_region_estimates")
