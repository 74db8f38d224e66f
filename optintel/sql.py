"""SQL that differs between SQLite and PostgreSQL, written once."""
from contextlib import contextmanager
from functools import lru_cache, wraps
from itertools import chain

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.dialects.postgresql import ARRAY

from .extensions import db


def on_postgresql():
    """Whether the session's database is PostgreSQL (else SQLite)."""
    return db.session.get_bind().dialect.name == "postgresql"


def dialect_insert(table):
    """An INSERT of the session's dialect, which knows ON CONFLICT."""
    dialect = postgresql if on_postgresql() else sqlite
    return dialect.insert(table)


def insert_ignoring_duplicates(table):
    """INSERT ... ON CONFLICT DO NOTHING: rows already present (by any unique constraint) are
    skipped, and RETURNING gives only the inserted ones."""
    return dialect_insert(table).on_conflict_do_nothing()


def add_counts(table, key_columns, rows):
    """Add the `count` of each row ({column: value}) to the table's row of the same key (the
    columns of a unique constraint), inserting the rows not there yet, in the session's
    transaction."""
    if not rows:
        return
    # In the order of the key (NULLs last), so that two transactions counting the same rows
    # cannot deadlock.
    db.session.execute(_add_counts(table, tuple(key_columns)), sorted(rows, key=lambda row: tuple(
        (row[name] is None, row[name]) for name in key_columns)))


def among(column, values):
    """`column IN (values)`: one array parameter on PostgreSQL (= ANY), whose driver would parse
    a placeholder a value anew each time; SQLite's IN otherwise."""
    return _among(column, None, list(values))


def among_parameter(column, name):
    """`column IN (:name)` as `among` writes it, the values given at execution under `name`
    (a list): for a statement built once (`built_once`)."""
    return _among(column, name)


def _among(column, name, values=None):
    if on_postgresql():
        return column == sa.any_(sa.bindparam(name, values, type_=ARRAY(column.type)))
    return column.in_(sa.bindparam(name, values, type_=column.type, expanding=True))


def built_once(build):
    """Decorator: the statement `build(*key)` makes, built once a process for each database
    dialect and key, its values given as bound parameters at each execution. SQLAlchemy builds
    a statement's expression and its cache key anew at every call otherwise, which for a
    batch's reads costs several times the database's own work."""
    statements = {}

    @wraps(build)
    def statement(*key):
        dialect = db.session.get_bind().dialect.name
        try:
            return statements[dialect, key]
        except KeyError:
            return statements.setdefault((dialect, key), build(*key))
    return statement


@built_once
def _add_counts(table, key_columns):
    stmt = dialect_insert(table)
    return stmt.on_conflict_do_update(index_elements=list(key_columns),
                                      set_={"count": table.c.count + stmt.excluded.count})


def unindexed(column):
    """The column's value as text in an expression that no index serves: for a condition that
    should only filter the rows that another one finds, whatever the planner believes."""
    return sa.type_coerce(column, sa.String) + ""


@contextmanager
def in_index_order():
    """For statements that should read an index in its order, a batch's worth (the next due
    deliveries): on PostgreSQL, without bitmap scans, in the caller's transaction. With
    statistics that lag behind a backlog its planner would otherwise read every matching row and
    sort them."""
    postgresql = on_postgresql()
    if postgresql:
        db.session.execute(sa.text("SET LOCAL enable_bitmapscan = off"))
    yield
    if postgresql:
        db.session.execute(sa.text("SET LOCAL enable_bitmapscan TO DEFAULT"))


def plain_rows(query):
    """The rows of a SELECT as tuples straight from the driver, in the session's transaction:
    for reading a whole list (downloads), whose columns need no conversion, without
    SQLAlchemy's work per row (five times the database's own)."""
    connection = db.session.connection()
    compiled = query.compile(dialect=connection.dialect,
                             compile_kwargs={"render_postcompile": True})
    parameters = compiled.construct_params()
    if compiled.positional:
        parameters = tuple(parameters[name] for name in compiled.positiontup)
    cursor = connection.connection.cursor()
    try:
        cursor.execute(compiled.string, parameters)
        return cursor.fetchall()
    finally:
        cursor.close()


def refresh_statistics(*tables):
    """After a bulk change, let PostgreSQL's planner know the tables' new sizes now rather than
    at autovacuum's next pass (a million new rows it takes for a few would be scanned whole, a
    page of a download at a time); SQLite plans without them."""
    if not on_postgresql():
        return
    db.session.execute(sa.text("ANALYZE " + ", ".join(table.name for table in tables)))
    db.session.commit()


def iso_utc(column):
    """A UTC timestamp column as ISO 8601 text to the second ("2026-01-31T09:30:00Z"), in SQL."""
    if on_postgresql():
        return sa.func.to_char(column, 'YYYY-MM-DD"T"HH24:MI:SS"Z"')
    return sa.func.strftime("%Y-%m-%dT%H:%M:%SZ", column)


def hour_bucket(column):
    """The start of the hour of a timestamp column, in SQL."""
    if on_postgresql():
        return sa.func.date_trunc("hour", column)
    return sa.func.strftime("%Y-%m-%d %H:00:00", column)


# Bound parameters of one SQLite statement: under its limit (32,766).
PARAMETER_LIMIT = 30_000
ROWS_PER_STATEMENT = 1000


def insert_rows(table, constants, columns, rows, returning=(), ignore_duplicates=False):
    """INSERT many rows at once, for bulk changes, in the session's transaction: `rows` are
    tuples of plain values (str, int, None) for `columns`, sent as they are; `constants`
    ({column: value}) are the same in every row, converted once by their column's type. Without
    SQLAlchemy's work per row, which costs more than the database's own for a million-line file:
    multi-row VALUES on SQLite, one array a column through unnest() on PostgreSQL (whose driver
    would parse a statement of thousands of placeholders anew each time). ON CONFLICT DO NOTHING
    with ignore_duplicates. Returns the RETURNING rows (tuples by position)."""
    if not rows:
        return []
    conn = db.session.connection()
    dialect, preparer = conn.dialect, conn.dialect.identifier_preparer
    names = [*columns, *constants]
    fixed = tuple(_bound(table.c[name], value, dialect) for name, value in constants.items())
    head = (f"INSERT INTO {preparer.format_table(table)} "
            f"({', '.join(preparer.quote(name) for name in names)}) ")
    tail = (" ON CONFLICT DO NOTHING" if ignore_duplicates else "") + (
        f" RETURNING {', '.join(preparer.quote(name) for name in returning)}" if returning else "")
    if dialect.name == "postgresql":
        statements = [_unnest_insert(table, columns, constants, rows, fixed, dialect)]
    else:
        statements = list(_values_insert(names, rows, fixed))
    returned = []
    for body, parameters in statements:
        result = conn.exec_driver_sql(head + body + tail, parameters)
        if returning:
            returned.extend(tuple(row) for row in result)
    return returned


def _values_insert(names, rows, fixed):
    """(VALUES (?, ...), ..., parameters) statements under the bound-parameter limit."""
    one_row = "(" + ", ".join(["?"] * len(names)) + ")"
    per = max(1, min(ROWS_PER_STATEMENT, PARAMETER_LIMIT // len(names)))
    for start in range(0, len(rows), per):
        page = rows[start:start + per]
        yield ("VALUES " + ", ".join([one_row] * len(page)),
               tuple(chain.from_iterable(row + fixed for row in page)))


def _unnest_insert(table, columns, constants, rows, fixed, dialect):
    """(SELECT ... FROM unnest(%b::type[], ...), parameters): one array a column, sent in the
    binary format, which the driver writes in a quarter of the CPU of the text one (it quotes
    and escapes every element of a text array in Python)."""
    fixed_sql = "".join(f", %s::{_sql_type(table, name, dialect)}" for name in constants)
    return (f"SELECT *{fixed_sql} FROM unnest({_arrays(table, columns, dialect)})",
            (*fixed, *_array_values(rows)))


def _sql_type(table, name, dialect):
    return table.c[name].type.compile(dialect=dialect)


def _arrays(table, names, dialect):
    """The placeholders of one array parameter a column, in the binary format, for unnest()."""
    return ", ".join(f"%b::{_sql_type(table, name, dialect)}[]" for name in names)


def _array_values(rows):
    """The rows' values as one list a column, the parameters of `_arrays`."""
    return tuple(list(values) for values in zip(*rows))


def _bound(column, value, dialect):
    """The value as the database driver takes it, by the column's type on this dialect."""
    processor = column.type.dialect_impl(dialect).bind_processor(dialect)
    return processor(value) if processor else value


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
            db.session.execute(_update_among(table, tuple(name for name, _ in values)),
                               {"ids": ids, **{"new_" + name: value for name, value in values}})
        else:
            single.append({"id": ids[0], **dict(values)})
    if single:
        _update_each(table, single)


@built_once
def _update_among(table, names):
    return sa.update(table).where(among_parameter(table.c.id, "ids")) \
        .values({name: sa.bindparam("new_" + name) for name in names})


def _update_each(table, rows):
    """The rows' UPDATEs by id, without SQLAlchemy's work per row (most of the SQL cost of a
    batch of attempts), each value converted by its column's type here: on PostgreSQL one
    UPDATE ... FROM unnest() of an array a column, sent in the binary format (the driver's
    executemany costs three times its CPU a row); on SQLite the driver's executemany of one
    UPDATE ... WHERE id = ? a row."""
    connection = db.session.connection()
    sql, convert = _update_by_id(table, tuple(rows[0]), connection.dialect)
    if sql is None:  # a column the rows do not give is set on update: SQLAlchemy sets it
        stmt = sa.update(table).where(table.c.id == sa.bindparam("id_"))
        db.session.execute(stmt, [{("id_" if k == "id" else k): v for k, v in row.items()}
                                  for row in rows])
        return
    values = [tuple(process(row[key]) if process else row[key] for key, process in convert)
              for row in rows]
    postgresql = connection.dialect.name == "postgresql"
    connection.exec_driver_sql(sql, _array_values(values) if postgresql else values)


@lru_cache(maxsize=64)
def _update_by_id(table, columns, dialect):
    """(SQL, [(column, converter or None)] in the order of its parameters) of the UPDATE of
    these columns (id among them) by id; Nones when the UPDATE sets a column more (an onupdate
    default)."""
    names = [name for name in columns if name != "id"]
    if any(column.onupdate is not None for column in table.c if column.name not in columns):
        return None, None
    ordered = ("id", *names)
    convert = [(name, table.c[name].type.dialect_impl(dialect).bind_processor(dialect))
               for name in ordered]
    preparer = dialect.identifier_preparer
    target = preparer.format_table(table)
    quoted = {name: preparer.quote(name) for name in ordered}
    if dialect.name == "postgresql":
        return (f"UPDATE {target} SET "
                + ", ".join(f"{quoted[name]} = given.{quoted[name]}" for name in names)
                + f" FROM unnest({_arrays(table, ordered, dialect)})"
                f" AS given({', '.join(quoted.values())}) WHERE {target}.id = given.id"), convert
    return (f"UPDATE {target} SET " + ", ".join(f"{quoted[name]} = ?" for name in names)
            + " WHERE id = ?", convert[1:] + convert[:1])
