"""endpoint health: rules paused by their failures, held deliveries, meta events

Revision ID: 0008
Revises: 0004
Create Date: 2026-12-02 10:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None

CHANNEL = sa.Enum('email', 'phone', name='channel', native_enum=False, length=32)
SOURCE = sa.Enum('manual', 'upload', 'api', 'unsubscribe', 'action', name='contactsource',
                 native_enum=False, length=32)


def upgrade():
    with op.batch_alter_table('tracking_rules', schema=None) as batch_op:
        batch_op.add_column(sa.Column('consecutive_failures', sa.Integer(), nullable=False,
                                      server_default='0'))
        batch_op.add_column(sa.Column('failing_since', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('last_error', sa.String(length=500), nullable=False,
                                      server_default=''))
        batch_op.add_column(sa.Column('paused_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('paused_reason', sa.String(length=500), nullable=False,
                                      server_default=''))

    with op.batch_alter_table('project_settings', schema=None) as batch_op:
        batch_op.add_column(sa.Column('pause_after_failures', sa.Integer(), nullable=False,
                                      server_default='20'))
        batch_op.add_column(sa.Column('pause_after_seconds', sa.Integer(), nullable=False,
                                      server_default='86400'))
        batch_op.add_column(sa.Column('notification_recipients', sa.Text(), nullable=False,
                                      server_default=''))

    # Meta events are about no list or contact; contact events keep every value they had.
    with op.batch_alter_table('events', schema=None) as batch_op:
        batch_op.alter_column('channel', existing_type=CHANNEL, nullable=True)
        batch_op.alter_column('list_id', existing_type=sa.Integer(), nullable=True)
        batch_op.alter_column('contact_md5', existing_type=sa.String(length=32), nullable=True)
        batch_op.alter_column('source', existing_type=SOURCE, nullable=True)
        batch_op.add_column(sa.Column('subject_rule_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('subject_delivery_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('details', sa.JSON(), nullable=True))

    with op.batch_alter_table('deliveries', schema=None) as batch_op:
        batch_op.alter_column('channel', existing_type=CHANNEL, nullable=True)
        batch_op.alter_column('list_id', existing_type=sa.Integer(), nullable=True)
        batch_op.alter_column('contact_md5', existing_type=sa.String(length=32), nullable=True)


def downgrade():
    # The deliveries of meta events, and meta events, cannot be kept without their columns.
    op.execute("DELETE FROM delivery_counts WHERE trigger IN "
               "('rule_paused', 'rule_resumed', 'delivery_failed')")
    op.execute("DELETE FROM deliveries WHERE event_id IN (SELECT id FROM events WHERE "
               "trigger IN ('rule_paused', 'rule_resumed', 'delivery_failed'))")
    op.execute("DELETE FROM events WHERE trigger IN "
               "('rule_paused', 'rule_resumed', 'delivery_failed')")
    op.execute("UPDATE deliveries SET status = 'pending' WHERE status = 'held'")
    op.execute("UPDATE delivery_counts SET status = 'pending' WHERE status = 'held'")
    op.execute("UPDATE tracking_rules SET status = 'disabled' WHERE status = 'paused'")
    with op.batch_alter_table('deliveries', schema=None) as batch_op:
        batch_op.alter_column('contact_md5', existing_type=sa.String(length=32), nullable=False)
        batch_op.alter_column('list_id', existing_type=sa.Integer(), nullable=False)
        batch_op.alter_column('channel', existing_type=CHANNEL, nullable=False)

    with op.batch_alter_table('events', schema=None) as batch_op:
        batch_op.drop_column('details')
        batch_op.drop_column('subject_delivery_id')
        batch_op.drop_column('subject_rule_id')
        batch_op.alter_column('source', existing_type=SOURCE, nullable=False)
        batch_op.alter_column('contact_md5', existing_type=sa.String(length=32), nullable=False)
        batch_op.alter_column('list_id', existing_type=sa.Integer(), nullable=False)
        batch_op.alter_column('channel', existing_type=CHANNEL, nullable=False)

    with op.batch_alter_table('project_settings', schema=None) as batch_op:
        batch_op.drop_column('notification_recipients')
        batch_op.drop_column('pause_after_seconds')
        batch_op.drop_column('pause_after_failures')

    with op.batch_alter_table('tracking_rules', schema=None) as batch_op:
        batch_op.drop_column('paused_reason')
        batch_op.drop_column('paused_at')
        batch_op.drop_column('last_error')
        batch_op.drop_column('failing_since')
        batch_op.drop_column('consecutive_failures')
