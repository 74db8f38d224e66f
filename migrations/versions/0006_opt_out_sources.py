"""opt-out sources: the SMS campaign's Twilio auth token and the replies it acted on

The new contact source "sms_reply" needs no change: sources are stored as short strings
without a database constraint.

Revision ID: 0006
Revises: 0004
Create Date: 2026-12-02 10:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('campaigns', schema=None) as batch_op:
        # The default fills the rows already there; the application always writes the column.
        batch_op.add_column(sa.Column('sms_auth_token_encrypted', sa.Text(), nullable=False,
                                      server_default=''))
    with op.batch_alter_table('campaigns', schema=None) as batch_op:
        batch_op.alter_column('sms_auth_token_encrypted', server_default=None)

    op.create_table('sms_replies',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('campaign_id', sa.Integer(), nullable=False),
    sa.Column('message_sid', sa.String(length=64), nullable=False),
    sa.Column('received_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaigns.id'], name=op.f('fk_sms_replies_campaign_id_campaigns'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sms_replies')),
    sa.UniqueConstraint('message_sid', name=op.f('uq_sms_replies_message_sid'))
    )
    with op.batch_alter_table('sms_replies', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sms_replies_campaign_id'), ['campaign_id'], unique=False)


def downgrade():
    with op.batch_alter_table('sms_replies', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sms_replies_campaign_id'))

    op.drop_table('sms_replies')
    with op.batch_alter_table('campaigns', schema=None) as batch_op:
        batch_op.drop_column('sms_auth_token_encrypted')
