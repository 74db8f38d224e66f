"""Encryption of secrets stored in the database (passwords, signing secrets, tokens) with the
app's keyring (keys.py): the newest key encrypts, every key decrypts."""
from cryptography.fernet import InvalidToken

from .keys import current_keyring

UNREADABLE = "The secret cannot be decrypted with the configured keys."


def encrypt(text):
    """A Fernet token of the text under the newest key; empty text stays empty."""
    if not text:
        return ""
    return current_keyring().fernet.encrypt(text.encode()).decode()


def decrypt(token):
    """The text of a Fernet token; empty stays empty. Raises ValueError when no key reads it."""
    if not token:
        return ""
    try:
        return current_keyring().fernet.decrypt(token.encode()).decode()
    except InvalidToken:
        raise ValueError(UNREADABLE) from None


def reencrypt(token):
    """The same secret as a new token under the newest key, text or bytes as the token is.
    Raises ValueError when no key reads it."""
    try:
        rotated = current_keyring().fernet.rotate(token)
    except InvalidToken:
        raise ValueError(UNREADABLE) from None
    return rotated if isinstance(token, bytes) else rotated.decode()
