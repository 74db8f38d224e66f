"""SQL that differs between SQLite and PostgreSQL, written once."""
from sqlalchemy.dialects import postgresql, sqlite

from .extensions import db


def insert_ignoring_duplicates(table):
    """INSERT ... ON CONFLICT DO NOTHING in the session's dialect: rows already present (by any
    unique constraint) are skipped, and RETURNING gives only the inserted ones."""
    dialect = postgresql if db.session.get_bind().dialect.name == "postgresql" else sqlite
    return dialect.insert(table).on_conflict_do_nothing()
