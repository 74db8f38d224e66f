"""event counts: contact events by day, list, campaign and trigger, for the home page's figures

Filled from the events already recorded, so that the figures count them too.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03 10:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('event_counts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('day', sa.DateTime(), nullable=False),
    sa.Column('list_id', sa.Integer(), nullable=False),
    sa.Column('campaign_id', sa.Integer(), nullable=False),
    sa.Column('channel', sa.Enum('email', 'phone', name='channel', native_enum=False, length=32), nullable=False),
    sa.Column('trigger', sa.Enum('contact_added', 'contact_deleted', 'rule_paused', 'rule_resumed', 'delivery_failed', name='trigger', native_enum=False, length=32), nullable=False),
    sa.Column('count', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_event_counts')),
    sa.UniqueConstraint('day', 'list_id', 'campaign_id', 'trigger', name=op.f('uq_event_counts_day_list_id_campaign_id_trigger'))
    )
    # The day as the application stores a timestamp on each database.
    if op.get_bind().dialect.name == 'postgresql':
        day = "date_trunc('day', occurred_at)"
    else:
        day = "strftime('%Y-%m-%d 00:00:00.000000', occurred_at)"
    op.execute(
        'INSERT INTO event_counts (day, list_id, campaign_id, channel, "trigger", count) '
        f'SELECT {day}, list_id, COALESCE(campaign_id, 0), channel, "trigger", COUNT(*) '
        "FROM events WHERE \"trigger\" IN ('contact_added', 'contact_deleted') "
        f'GROUP BY {day}, list_id, COALESCE(campaign_id, 0), channel, "trigger"')


def downgrade():
    op.drop_table('event_counts')
