"""attempt states: an attempt is recorded as started before it is sent

Revision ID: 0007
Revises: 0004
Create Date: 2026-12-01 20:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade():
    # Every attempt recorded so far was recorded with its outcome.
    with op.batch_alter_table('attempts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('state', sa.Enum('started', 'completed', 'interrupted', name='attemptstate', native_enum=False, length=32), server_default='completed', nullable=False))


def downgrade():
    with op.batch_alter_table('attempts', schema=None) as batch_op:
        batch_op.drop_column('state')
