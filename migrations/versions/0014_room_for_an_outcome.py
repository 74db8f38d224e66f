"""room for an outcome: on PostgreSQL the pages of attempts are filled to 10 % by inserts. An
attempt is inserted as started, a row of about 100 bytes, and completed by an update with what
was sent and what came back, most often ten times that. At 50 % a page had room for the outcomes
of about a third of its started rows; the others moved to another page, with a new entry in each
index of attempts (not a heap-only update). Filled to 10 %, a page's completed attempts fill it
as they come. New pages only. SQLite has no such setting.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-03 17:30:00.000000

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE attempts SET (fillfactor = 10)")


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE attempts SET (fillfactor = 50)")
