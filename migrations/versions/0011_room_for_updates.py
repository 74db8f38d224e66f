"""room for updates: on PostgreSQL the pages of deliveries and attempts are filled to 70 %, so
that the updates of a delivery's life that change no indexed column (its claim, its handing to
the queue, an attempt's outcome) are written beside the row (HOT) instead of adding an entry to
each of its indexes; new pages only, as the rows come. SQLite has no such setting.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-05 10:00:00.000000

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None

TABLES = ("deliveries", "attempts")


def upgrade():
    if op.get_bind().dialect.name == "postgresql":
        for table in TABLES:
            op.execute(f"ALTER TABLE {table} SET (fillfactor = 70)")


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        for table in TABLES:
            op.execute(f"ALTER TABLE {table} RESET (fillfactor)")
