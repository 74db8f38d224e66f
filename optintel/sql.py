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


def update_by_id(table, rows):
    """UPDATE rows of the table by their id, in the session's transaction, from
    {"id": ..., column: value, ...} dicts, every one with the same columns: those with the same
    values (a batch's successes) in one UPDATE ... WHERE id IN, the others in one executemany."""
    alike, single = {}, []
    for row in rows:
        values = tuple((k, v) for k, v in row.items() if k != "id")
        try:
            alike.setdefault(values, []).append(row["id"])
        except TypeError:  # a JSON value: not comparable as a whole
            single.append(row)
    for values, ids in alike.items():
        if len(ids) > 1:
            db.session.execute(sa.update(table).where(table.c.id.in_(ids)).values(dict(values)))
        else:
            single.append({"id": ids[0], **dict(values)})
    if single:
        stmt = sa.update(table).where(table.c.id == sa.bindparam("row_id"))
        db.session.execute(stmt, [{"row_id": row["id"], **{k: v for k, v in row.items()
                                                          if k != "id"}} for row in single])
