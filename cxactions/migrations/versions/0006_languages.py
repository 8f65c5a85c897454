"""languages: the user's interface language, French names and descriptions of challenges

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-05 18:50:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('locale', sa.String(length=5), nullable=True))

    with op.batch_alter_table('challenges', schema=None) as batch_op:
        batch_op.add_column(sa.Column('name_fr', sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column('description_fr', sa.Text(), nullable=True))


def downgrade():
    with op.batch_alter_table('challenges', schema=None) as batch_op:
        batch_op.drop_column('description_fr')
        batch_op.drop_column('name_fr')

    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('locale')
