"""Rotating the encryption keys of stored secrets: every encrypted column (those made with
models.columns.encrypted_column or encrypted_bytes_column) re-encrypted under the newest key,
and the check that the newest key alone reads them all before the older keys are dropped."""
import sqlalchemy as sa

from . import secrets
from .extensions import db
from .keys import current_keyring


def encrypted_columns():
    """Every column declared encrypted (info "encrypted"), table by table."""
    return [column for table in db.metadata.sorted_tables for column in table.columns
            if column.info.get("encrypted")]


def _stored(column):
    """(primary key columns, [(primary key values, token)]) of the column's non-empty values;
    a token is text or bytes as the column holds it."""
    keys = tuple(column.table.primary_key.columns)
    empty = b"" if isinstance(column.type, sa.LargeBinary) else ""
    rows = db.session.execute(sa.select(*keys, column).where(column != empty)).all()
    return keys, [(tuple(row[:-1]), row[-1]) for row in rows]


def _row_name(keys, values):
    """The row's primary key as a message says it: "id 4", "import_id 4, seq 0"."""
    return ", ".join(f"{key.name} {value}" for key, value in zip(keys, values))


def rotate_stored():
    """Re-encrypt every stored secret under the newest key in one transaction; how many were.
    A value that no key decrypts stops it before anything is written (ValueError naming the
    value's table, column and id). A value changed meanwhile is left as its writer stored it."""
    changes = []
    for column in encrypted_columns():
        keys, rows = _stored(column)
        for row_key, token in rows:
            try:
                changes.append((column, keys, row_key, token, secrets.reencrypt(token)))
            except ValueError:
                raise ValueError(f"{column.table.name}.{column.name} of "
                                 f"{_row_name(keys, row_key)} cannot be decrypted with any of "
                                 f"the configured keys.") from None
    rotated = 0
    for column, keys, row_key, old, new in changes:
        matches = [key == value for key, value in zip(keys, row_key)]
        rotated += db.session.execute(sa.update(column.table)
                                      .where(*matches, column == old)
                                      .values({column.name: new})).rowcount
    db.session.commit()
    return rotated


def unreadable_by_newest():
    """How many stored secrets the newest key alone does not decrypt."""
    keyring = current_keyring()
    return sum(not keyring.readable_by_newest(token)
               for column in encrypted_columns() for _, token in _stored(column)[1])
