"""People who use the dashboard, and their API keys."""
import hashlib
import secrets

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask_login import UserMixin
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .columns import UTCDateTime, enum_column, utcnow
from .enums import Role

_hasher = PasswordHasher()
# The hash that a login naming no usable account is checked against, made on first use.
_no_account = {"hash": None}


class User(UserMixin, db.Model):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(sa.String(254), unique=True)
    name: Mapped[str] = mapped_column(sa.String(120), default="")
    password_hash: Mapped[str] = mapped_column(sa.String(255))
    role: Mapped[Role] = mapped_column(enum_column(Role))
    active: Mapped[bool] = mapped_column(default=True)
    created_at = mapped_column(UTCDateTime, default=utcnow)

    api_keys = relationship("ApiKey", back_populates="user", cascade="all, delete-orphan")

    def set_password(self, password):
        """Store an Argon2id hash of the password."""
        self.password_hash = _hasher.hash(password)

    def check_password(self, password):
        """Whether the password matches the stored hash."""
        try:
            return _hasher.verify(self.password_hash, password)
        except (VerificationError, InvalidHashError):
            return False

    @staticmethod
    def check_password_of_no_account(password):
        """Spend the Argon2 verification that a real account would cost; always False."""
        dummy = _no_account["hash"]
        if dummy is None or _hasher.check_needs_rehash(dummy):
            dummy = _no_account["hash"] = _hasher.hash(secrets.token_urlsafe(16))
        try:
            _hasher.verify(dummy, password)
        except (VerificationError, InvalidHashError):
            pass
        return False

    @property
    def is_active(self):
        return self.active

    @property
    def is_admin(self):
        return self.role == Role.GLOBAL_ADMIN

    @property
    def display_name(self):
        return self.name or self.email

    def __repr__(self):
        return f"<User {self.email} {self.role}>"


class ApiKey(db.Model):
    """A bearer key acting as its user; only a SHA-256 of it is kept."""

    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(sa.String(120), default="")
    prefix: Mapped[str] = mapped_column(sa.String(16))
    key_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    created_at = mapped_column(UTCDateTime, default=utcnow)
    last_used_at = mapped_column(UTCDateTime, nullable=True)

    user = relationship("User", back_populates="api_keys")

    PREFIX = "oi_"

    @staticmethod
    def digest(key):
        return hashlib.sha256(key.encode()).hexdigest()

    def set_new_key(self):
        """Give the row a new random key; returns it in clear, to be shown once."""
        key = self.PREFIX + secrets.token_urlsafe(32)
        self.prefix, self.key_hash = key[:10], self.digest(key)
        return key

    @classmethod
    def issue(cls, user, name=""):
        """Create a key for the user; returns (row, the key in clear, shown once)."""
        row = cls(user=user, name=name)
        return row, row.set_new_key()

    @classmethod
    def find(cls, key):
        """The key row for a presented key, or None."""
        if not key:
            return None
        return db.session.scalar(sa.select(cls).where(cls.key_hash == cls.digest(key)))
