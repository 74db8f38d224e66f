"""Checking a login's email and password."""
import sqlalchemy as sa

from ..extensions import db
from ..models import User


def authenticate(email, password):
    """The active user with that email and password, or None. Whether the account exists,
    is inactive or the password is wrong, the check costs one Argon2 verification, so the
    answer's time does not tell which."""
    user = db.session.scalar(sa.select(User).where(User.email == email.strip().lower()))
    if user is None:
        User.check_password_of_no_account(password)
        return None
    return user if user.check_password(password) and user.active else None
