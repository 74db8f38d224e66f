"""SQL that differs between SQLite and PostgreSQL, written once."""
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from .extensions import db


def dialect_insert(table):
    """An INSERT of the session's dialect, which knows ON CONFLICT."""
    dialect = postgresql if db.session.get_bind().dialect.name == "postgresql" else sqlite
    return dialect.insert(table)


def insert_ignoring_duplicates(table):
    """INSERT ... ON CONFLICT DO NOTHING: rows already present (by any unique constraint) are
    skipped, and RETURNING gives only the inserted ones."""
    return dialect_insert(table).on_conflict_do_nothing()


def hour_bucket(column):
    """The start of the hour of a timestamp column, in SQL."""
    if db.session.get_bind().dialect.name == "postgresql":
        return sa.func.date_trunc("hour", column)
    return sa.func.strftime("%Y-%m-%d %H:00:00", column)


# Bound parameters of one statement: under SQLite's limit (32,766) and PostgreSQL's (65,535).
PARAMETER_LIMIT = 30_000
ROWS_PER_STATEMENT = 1000


def insert_rows(table, constants, columns, rows, returning=(), ignore_duplicates=False):
    """INSERT many rows at once, for bulk changes, in the session's transaction: `rows` are
    tuples of plain values (str, int, None) for `columns`, sent as they are; `constants`
    ({column: value}) are the same in every row, converted once by their column's type. Sent
    as multi-row VALUES statements (ON CONFLICT DO NOTHING with ignore_duplicates) without
    SQLAlchemy's work per row, which costs more than the database's own for a million-line
    file. Returns the RETURNING rows as tuples."""
    conn = db.session.connection()
    dialect, quote = conn.dialect, conn.dialect.identifier_preparer.quote
    names = [*columns, *constants]
    fixed = tuple(_bound(table.c[name], value, dialect) for name, value in constants.items())
    mark = "?" if dialect.paramstyle == "qmark" else "%s"
    one_row = "(" + ", ".join([mark] * len(names)) + ")"
    head = (f"INSERT INTO {conn.dialect.identifier_preparer.format_table(table)} "
            f"({', '.join(quote(name) for name in names)}) VALUES ")
    tail = (" ON CONFLICT DO NOTHING" if ignore_duplicates else "") + (
        f" RETURNING {', '.join(quote(name) for name in returning)}" if returning else "")
    per = max(1, min(ROWS_PER_STATEMENT, PARAMETER_LIMIT // len(names)))
    returned = []
    for start in range(0, len(rows), per):
        page = rows[start:start + per]
        parameters = tuple(value for row in page for value in (*row, *fixed))
        result = conn.exec_driver_sql(head + ", ".join([one_row] * len(page)) + tail, parameters)
        if returning:
            returned.extend(tuple(row) for row in result)
    return returned


def _bound(column, value, dialect):
    """The value as the database driver takes it, by the column's type on this dialect."""
    processor = column.type.dialect_impl(dialect).bind_processor(dialect)
    return processor(value) if processor else value
