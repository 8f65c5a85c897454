"""plan workflow: plan items' version, abandon reason and status date, their checklists, the
users' last reminder digest

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06 00:20:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'plan_steps',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('adoption_id', sa.Integer(), nullable=False),
        sa.Column('position', sa.Integer(), nullable=False),
        sa.Column('text', sa.String(length=500), nullable=False),
        sa.Column('done_at', sa.DateTime(), nullable=True),
        sa.Column('done_by_id', sa.Integer(), nullable=True),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['adoption_id'], ['adoptions.id'], name=op.f('fk_plan_steps_adoption_id_adoptions'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['done_by_id'], ['users.id'], name=op.f('fk_plan_steps_done_by_id_users'), ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_plan_steps')),
    )
    with op.batch_alter_table('plan_steps', schema=None) as batch_op:
        batch_op.create_index('ix_plan_steps_adoption', ['adoption_id', 'position'], unique=False)

    with op.batch_alter_table('adoptions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('status_reason', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('status_changed_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('version', sa.Integer(), server_default='1', nullable=False))

    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('last_digest_at', sa.DateTime(), nullable=True))


def downgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('last_digest_at')

    with op.batch_alter_table('adoptions', schema=None) as batch_op:
        batch_op.drop_column('version')
        batch_op.drop_column('status_changed_at')
        batch_op.drop_column('status_reason')

    with op.batch_alter_table('plan_steps', schema=None) as batch_op:
        batch_op.drop_index('ix_plan_steps_adoption')

    op.drop_table('plan_steps')
