"""room for a batch: on PostgreSQL the pages of deliveries and attempts are filled to 50 %, not
70 %. A claim updates a batch of deliveries in one statement, most of them sharing their pages,
and none of the versions it replaces can be pruned before it commits: at 70 % a page had room
for the new versions of about 40 % of its rows, and the others added an entry to each of the
deliveries' indexes. New pages only, as the rows come. SQLite has no such setting.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-02 17:00:00.000000

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None

TABLES = ("deliveries", "attempts")


def upgrade():
    if op.get_bind().dialect.name == "postgresql":
        for table in TABLES:
            op.execute(f"ALTER TABLE {table} SET (fillfactor = 50)")


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        for table in TABLES:
            op.execute(f"ALTER TABLE {table} SET (fillfactor = 70)")
