"""due deliveries in order: ix_deliveries_due ends with the id, so that a worker reads the next
due deliveries of a status in the index's order, a batch's worth, instead of every due one sorted

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-04 10:00:00.000000

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('deliveries', schema=None) as batch_op:
        batch_op.drop_index('ix_deliveries_due')
        batch_op.create_index('ix_deliveries_due', ['status', 'next_attempt_at', 'id'], unique=False)


def downgrade():
    with op.batch_alter_table('deliveries', schema=None) as batch_op:
        batch_op.drop_index('ix_deliveries_due')
        batch_op.create_index('ix_deliveries_due', ['status', 'next_attempt_at'], unique=False)
