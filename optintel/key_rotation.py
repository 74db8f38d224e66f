"""Rotating the encryption keys of stored secrets: every encrypted column (those made with
models.columns.encrypted_column) re-encrypted under the newest key, and the check that the
newest key alone reads them all before the older keys are dropped."""
import sqlalchemy as sa

from . import secrets
from .extensions import db
from .keys import current_keyring


def encrypted_columns():
    """Every column declared with encrypted_column, table by table."""
    return [column for table in db.metadata.sorted_tables for column in table.columns
            if column.info.get("encrypted")]


def _stored(column):
    """(primary key column, [(id, token)]) of the column's non-empty values."""
    (key,) = column.table.primary_key.columns
    return key, db.session.execute(sa.select(key, column).where(column != "")).all()


def rotate_stored():
    """Re-encrypt every stored secret under the newest key in one transaction; how many were.
    A value that no key decrypts stops it before anything is written (ValueError naming the
    value's table, column and id). A value changed meanwhile is left as its writer stored it."""
    changes = []
    for column in encrypted_columns():
        key, rows = _stored(column)
        for row_id, token in rows:
            try:
                changes.append((column, key, row_id, token, secrets.reencrypt(token)))
            except ValueError:
                raise ValueError(f"{column.table.name}.{column.name} of id {row_id} cannot be "
                                 f"decrypted with any of the configured keys.") from None
    rotated = 0
    for column, key, row_id, old, new in changes:
        rotated += db.session.execute(sa.update(column.table)
                                      .where(key == row_id, column == old)
                                      .values({column.name: new})).rowcount
    db.session.commit()
    return rotated


def unreadable_by_newest():
    """How many stored secrets the newest key alone does not decrypt."""
    keyring = current_keyring()
    return sum(not keyring.readable_by_newest(token)
               for column in encrypted_columns() for _, token in _stored(column)[1])
