"""crowd and governance: follows, reports of comments, notifications; comments' "we tried it"
outcome, unit and date, moderation and edits; anonymous proposals, their unit and the solution
they improve; plan items kept as the record of a merge; users' forced password change and
e-mailed notifications

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06 02:39:48

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('follows',
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('solution_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['solution_id'], ['solutions.id'], name=op.f('fk_follows_solution_id_solutions'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_follows_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('user_id', 'solution_id', name=op.f('pk_follows'))
    )
    with op.batch_alter_table('follows', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_follows_solution_id'), ['solution_id'], unique=False)

    op.create_table('comment_reports',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('comment_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('resolved_at', sa.DateTime(), nullable=True),
    sa.Column('resolved_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['comment_id'], ['comments.id'], name=op.f('fk_comment_reports_comment_id_comments'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['resolved_by_id'], ['users.id'], name=op.f('fk_comment_reports_resolved_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_comment_reports_user_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_comment_reports')),
    sa.UniqueConstraint('comment_id', 'user_id', name=op.f('uq_comment_reports_comment_id_user_id'))
    )
    with op.batch_alter_table('comment_reports', schema=None) as batch_op:
        batch_op.create_index('ix_comment_reports_open', ['resolved_at', 'created_at'], unique=False)

    op.create_table('notifications',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('approved', 'rejected', 'merged', 'comment', 'tried', 'measured', name='notification_kind', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('solution_id', sa.Integer(), nullable=True),
    sa.Column('comment_id', sa.Integer(), nullable=True),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('details', sa.JSON(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('read_at', sa.DateTime(), nullable=True),
    sa.Column('emailed_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['actor_id'], ['users.id'], name=op.f('fk_notifications_actor_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['comment_id'], ['comments.id'], name=op.f('fk_notifications_comment_id_comments'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['solution_id'], ['solutions.id'], name=op.f('fk_notifications_solution_id_solutions'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_notifications_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_notifications'))
    )
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_notifications_solution_id'), ['solution_id'], unique=False)
        batch_op.create_index('ix_notifications_user_read', ['user_id', 'read_at', 'created_at'], unique=False)

    with op.batch_alter_table('adoptions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('merged_into_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_adoptions_merged_into_id_adoptions'), 'adoptions', ['merged_into_id'], ['id'], ondelete='SET NULL')

    with op.batch_alter_table('comments', schema=None) as batch_op:
        batch_op.add_column(sa.Column('outcome', sa.Enum('worked', 'mixed', 'did_not_work', name='tried_outcome', native_enum=False, create_constraint=True), nullable=True))
        batch_op.add_column(sa.Column('unit_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('tried_on', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('hidden_by_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('hidden_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('hidden_reason', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('edited_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('deleted_at', sa.DateTime(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_comments_unit_id_units'), 'units', ['unit_id'], ['id'], ondelete='SET NULL')
        batch_op.create_foreign_key(batch_op.f('fk_comments_hidden_by_id_users'), 'users', ['hidden_by_id'], ['id'], ondelete='SET NULL')

    # "We tried it" comments written before reports had an outcome stay, as plain comments.
    op.execute("UPDATE comments SET kind = 'comment' WHERE kind = 'tried_it' AND outcome IS NULL")
    with op.batch_alter_table('comments', schema=None) as batch_op:
        batch_op.create_check_constraint(
            'tried_it_has_outcome', "kind <> 'tried_it' OR outcome IS NOT NULL"
        )

    with op.batch_alter_table('solutions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('anonymous', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.add_column(sa.Column('origin_unit_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('improves_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_solutions_origin_unit_id_units'), 'units', ['origin_unit_id'], ['id'], ondelete='SET NULL')
        batch_op.create_foreign_key(batch_op.f('fk_solutions_improves_id_solutions'), 'solutions', ['improves_id'], ['id'], ondelete='SET NULL')

    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('must_change_password', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.add_column(sa.Column('email_notifications', sa.Boolean(), server_default=sa.false(), nullable=False))



def downgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('email_notifications')
        batch_op.drop_column('must_change_password')

    with op.batch_alter_table('solutions', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_solutions_improves_id_solutions'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('fk_solutions_origin_unit_id_units'), type_='foreignkey')
        batch_op.drop_column('improves_id')
        batch_op.drop_column('origin_unit_id')
        batch_op.drop_column('anonymous')

    with op.batch_alter_table('comments', schema=None) as batch_op:
        batch_op.drop_constraint('tried_it_has_outcome', type_='check')
        batch_op.drop_constraint('tried_outcome', type_='check')
    with op.batch_alter_table('comments', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_comments_hidden_by_id_users'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('fk_comments_unit_id_units'), type_='foreignkey')
        batch_op.drop_column('deleted_at')
        batch_op.drop_column('edited_at')
        batch_op.drop_column('hidden_reason')
        batch_op.drop_column('hidden_at')
        batch_op.drop_column('hidden_by_id')
        batch_op.drop_column('tried_on')
        batch_op.drop_column('unit_id')
        batch_op.drop_column('outcome')

    with op.batch_alter_table('adoptions', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_adoptions_merged_into_id_adoptions'), type_='foreignkey')
        batch_op.drop_column('merged_into_id')

    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.drop_index('ix_notifications_user_read')
        batch_op.drop_index(batch_op.f('ix_notifications_solution_id'))

    op.drop_table('notifications')
    with op.batch_alter_table('comment_reports', schema=None) as batch_op:
        batch_op.drop_index('ix_comment_reports_open')

    op.drop_table('comment_reports')
    with op.batch_alter_table('follows', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_follows_solution_id'))

    op.drop_table('follows')
