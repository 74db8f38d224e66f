"""contacts through their events: the deliveries lose their index of contact_md5. The Tracking
Log's contact filter finds a contact's deliveries through its events (indexed by contact_md5)
and the deliveries' index of event_id. That index took a random place at every delivery's
insert, and on PostgreSQL at every update of its status: about 40 % of an insert's time on
SQLite.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-03 17:00:00.000000

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade():
    op.drop_index("ix_deliveries_contact_md5", table_name="deliveries")


def downgrade():
    op.create_index("ix_deliveries_contact_md5", "deliveries", ["contact_md5"])
