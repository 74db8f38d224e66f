"""Column helpers shared by the tables."""
from datetime import datetime, timezone

import sqlalchemy as sa
from sqlalchemy.orm import mapped_column
from sqlalchemy.types import TypeDecorator


def utcnow():
    """The current time, timezone-aware in UTC."""
    return datetime.now(timezone.utc)


class UTCDateTime(TypeDecorator):
    """A timestamp stored naive in UTC and read back timezone-aware, on every database."""

    impl = sa.DateTime
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is not None and value.tzinfo is not None:
            value = value.astimezone(timezone.utc).replace(tzinfo=None)
        return value

    def bind_processor(self, dialect):
        """process_bind_param, then the dialect's conversion; a timestamp given again (the rows
        of a batch share one `now`) is converted once, not once a row and column."""
        convert = super().bind_processor(dialect)
        last = [(None, None)]

        def process(value):
            seen, converted = last[0]
            if value is not seen or value is None:
                converted = convert(value)
                last[0] = (value, converted)
            return converted
        return process

    def process_result_value(self, value, dialect):
        return value.replace(tzinfo=timezone.utc) if value is not None else None


def partial(where):
    """The options of an index that keeps only the rows matching `where` (SQL), on both
    databases."""
    return {"sqlite_where": sa.text(where), "postgresql_where": sa.text(where)}


def enum_column(enum, **kwargs):
    """A short string column holding an enum's value, checked on both databases."""
    return sa.Enum(enum, native_enum=False, length=32, values_callable=lambda e: [m.value for m in e],
                   validate_strings=True, **kwargs)


def encrypted_column():
    """A text column holding a Fernet token of secrets.encrypt (empty: none); `flask secrets
    rotate` re-encrypts every column made here."""
    return mapped_column(sa.Text, default="", info={"encrypted": True})


def encrypted_bytes_column():
    """A binary column holding a Fernet token as bytes (NULL: none), re-encrypted by `flask
    secrets rotate` like those of encrypted_column."""
    return mapped_column(sa.LargeBinary, nullable=True, info={"encrypted": True})
