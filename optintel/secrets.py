"""Encryption of secrets stored in the database (passwords, signing secrets, tokens)."""
import base64
import hashlib

from cryptography.fernet import Fernet, InvalidToken
from flask import current_app


def _fernet():
    key = current_app.config.get("OPTINTEL_ENCRYPTION_KEY")
    if not key:
        digest = hashlib.sha256(current_app.config["SECRET_KEY"].encode()).digest()
        key = base64.urlsafe_b64encode(digest)
    return Fernet(key)


def encrypt(text):
    """A Fernet token of the text; empty text stays empty."""
    if not text:
        return ""
    return _fernet().encrypt(text.encode()).decode()


def decrypt(token):
    """The text of a Fernet token; empty stays empty. Raises ValueError for a foreign token."""
    if not token:
        return ""
    try:
        return _fernet().decrypt(token.encode()).decode()
    except InvalidToken:
        raise ValueError("The secret cannot be decrypted with the configured key.") from None
