"""leaner delivery indexes: every delivery's insert (and on PostgreSQL every change of its
status) adds an entry to each index of the deliveries.

- The index of contact_md5 goes. The Tracking Log's contact filter finds a contact's deliveries
  through its events (indexed by contact_md5) and the deliveries' index of event_id. Its entries
  took a random place in a large index: about 40 % of an insert's time on SQLite.
- The indexes of mailer_id and of campaign_id keep only the deliveries that have one: the
  filters never ask for the others.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-03 17:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None

OPTIONAL = ("mailer_id", "campaign_id")


def _index(name, where=None):
    partial = {} if where is None else {"sqlite_where": sa.text(where),
                                        "postgresql_where": sa.text(where)}
    op.create_index(f"ix_deliveries_{name}_id", "deliveries", [name, "id"], **partial)


def upgrade():
    op.drop_index("ix_deliveries_contact_md5", table_name="deliveries")
    for name in OPTIONAL:
        op.drop_index(f"ix_deliveries_{name}_id", table_name="deliveries")
        _index(name, f"{name} IS NOT NULL")


def downgrade():
    for name in OPTIONAL:
        op.drop_index(f"ix_deliveries_{name}_id", table_name="deliveries")
        _index(name)
    op.create_index("ix_deliveries_contact_md5", "deliveries", ["contact_md5"])
