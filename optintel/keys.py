"""The keys of an installation: SECRET_KEY, which signs sessions and CSRF tokens, and the
encryption keys of stored secrets (Fernet keys, newest first). Given in the environment, or else
generated once into the instance folder, readable by its owner only. A database that is not a
SQLite file is shared by several machines: their keys must be the same, so they must be given."""
import os
import secrets
import stat
import tempfile
from pathlib import Path

import click
from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from flask import current_app
from sqlalchemy.engine import make_url

SECRET_KEY_FILE = "secret_key"
ENCRYPTION_KEYS_FILE = "encryption_keys"
EXTENSION = "optintel_keyring"
MAKE_A_KEY = (".venv/bin/python -c 'from cryptography.fernet import Fernet; "
              "print(Fernet.generate_key().decode())'")


class KeySetupError(click.ClickException):
    """The keys are missing or unusable, so the app does not start; `flask` shows the message
    alone, gunicorn after its traceback."""


class Keyring:
    """The encryption keys of stored secrets, newest first, and the instance file they were read
    from (None when they come from the environment)."""

    def __init__(self, keys, file=None):
        self.keys, self.file = tuple(keys), file
        self.fernet = MultiFernet([Fernet(key) for key in self.keys])
        self._newest = Fernet(self.keys[0])

    def readable_by_newest(self, token):
        """Whether the newest key alone decrypts the token (text or bytes)."""
        try:
            self._newest.decrypt(token)
        except InvalidToken:
            return False
        return True


def new_key():
    """A new random Fernet key, as text."""
    return Fernet.generate_key().decode()


def current_keyring():
    """The keyring of the current app."""
    return current_app.extensions[EXTENSION]


def init_app(app):
    """Set SECRET_KEY and the keyring from the configuration, else from the instance folder
    (generating what is missing); refuse to start, before any database connection, when a
    shared database has no keys given."""
    config, instance = app.config, Path(app.instance_path)
    given = _given_keys(config)
    missing = [name for name, value in (("SECRET_KEY", config.get("SECRET_KEY")),
                                        ("OPTINTEL_ENCRYPTION_KEYS", given)) if not value]
    database = make_url(config["SQLALCHEMY_DATABASE_URI"]).get_backend_name()
    if missing and database != "sqlite":
        raise KeySetupError(
            f"DATABASE_URL names a {database} database, which several machines may share, so "
            f"this machine cannot generate its own keys: set {' and '.join(missing)} in the "
            f"environment, the same values on every machine. Make each with: {MAKE_A_KEY}")
    if not config.get("SECRET_KEY"):
        config["SECRET_KEY"] = read_or_create(instance / SECRET_KEY_FILE,
                                              lambda: secrets.token_urlsafe(48))
    if given:
        keyring = Keyring(given)
    else:
        file = instance / ENCRYPTION_KEYS_FILE
        keyring = Keyring(_checked(read_or_create(file, new_key).split(), str(file)), file)
    app.extensions[EXTENSION] = keyring


def _given_keys(config):
    """The encryption keys of the configuration, checked; () when none is given."""
    many, one = config.get("OPTINTEL_ENCRYPTION_KEYS"), config.get("OPTINTEL_ENCRYPTION_KEY")
    if many and one:
        raise KeySetupError("Set OPTINTEL_ENCRYPTION_KEYS (every key, newest first) or "
                            "OPTINTEL_ENCRYPTION_KEY (a single key), not both.")
    if many:
        keys = many.split(",") if isinstance(many, str) else many
        return _checked([key.strip() for key in keys if key.strip()], "OPTINTEL_ENCRYPTION_KEYS")
    return _checked([one.strip()], "OPTINTEL_ENCRYPTION_KEY") if one else ()


def _checked(keys, source):
    """The keys, each a valid Fernet key, else KeySetupError naming the source and position."""
    if not keys:
        raise KeySetupError(f"{source} holds no encryption key.")
    for number, key in enumerate(keys, 1):
        try:
            Fernet(key)
        except ValueError:
            raise KeySetupError(f"Key {number} of {source} is not a Fernet key (32 bytes in "
                                f"url-safe base64, 44 characters). Make one with: "
                                f"{MAKE_A_KEY}") from None
    return tuple(keys)


def read_or_create(path, make):
    """The text of a key file, created with make() when missing. Processes starting together
    agree: each writes its candidate to a file of its own, and only the first hard link to
    `path` lands (link fails when the name exists), so a key file is never seen half written."""
    try:
        return _read(path)
    except FileNotFoundError:
        pass
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    candidate = _private_file(path, make() + "\n")
    try:
        os.link(candidate, path)
    except FileExistsError:
        pass  # another process was first: its key is the one
    finally:
        os.unlink(candidate)
    return _read(path)


def save_keys(path, keys):
    """Replace the instance's key file with these keys, one a line, newest first."""
    os.replace(_private_file(path, "".join(f"{key}\n" for key in keys)), path)


def _private_file(path, text):
    """A new file beside `path` holding the text, readable by its owner only; its name."""
    fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    with os.fdopen(fd, "w") as file:
        os.fchmod(file.fileno(), 0o600)
        file.write(text)
        file.flush()
        os.fsync(file.fileno())
    return name


def _read(path):
    """The stripped text of a key file that only its owner may read."""
    try:
        with open(path) as file:
            mode = os.fstat(file.fileno()).st_mode
            text = file.read().strip()
    except (PermissionError, IsADirectoryError) as error:
        raise KeySetupError(f"Cannot read {path}: {error.strerror}.") from None
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise KeySetupError(f"{path} may be read by other users; make it its owner's only: "
                            f"chmod 600 {path}")
    if not text:
        raise KeySetupError(f"{path} is empty.")
    return text
