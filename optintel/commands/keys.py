"""`flask secrets`: the encryption keys of stored secrets, and rotating them (README: Keys)."""
import click
from flask.cli import AppGroup

from .. import keys
from ..key_rotation import rotate_stored, unreadable_by_newest

secrets = AppGroup("secrets", help="The encryption keys of stored secrets.")

FROM_ENVIRONMENT = "The encryption keys come from the environment"


@secrets.command("new-key")
def new_key():
    """Print a new random key (an encryption key, also fit for SECRET_KEY); nothing is kept."""
    click.echo(keys.new_key())


@secrets.command("add-key")
def add_key():
    """Put a new key first in the instance's key file; the others still decrypt."""
    keyring = keys.current_keyring()
    if keyring.file is None:
        raise click.ClickException(f"{FROM_ENVIRONMENT}: put a key from `flask secrets new-key` "
                                   f"first in OPTINTEL_ENCRYPTION_KEYS instead.")
    keys.save_keys(keyring.file, [keys.new_key(), *keyring.keys])
    click.echo(f"A new key is first in {keyring.file} ({len(keyring.keys) + 1} keys). Restart "
               f"the web server and the workers, then run `flask secrets rotate`.")


@secrets.command("rotate")
def rotate():
    """Re-encrypt every stored secret under the newest key."""
    try:
        count = rotate_stored()
    except ValueError as error:
        raise click.ClickException(f"{error} Nothing was changed.") from None
    click.echo(f"Re-encrypted {count} stored secret(s) under the newest key.")


@secrets.command("drop-old-keys")
def drop_old_keys():
    """Keep only the newest key, once it alone decrypts every stored secret."""
    unreadable = unreadable_by_newest()
    if unreadable:
        raise click.ClickException(f"{unreadable} stored secret(s) are not encrypted under the "
                                   f"newest key: run `flask secrets rotate` first.")
    keyring = keys.current_keyring()
    if keyring.file is None:
        click.echo(f"Every stored secret decrypts with the newest key alone. {FROM_ENVIRONMENT}: "
                   f"remove the older ones from OPTINTEL_ENCRYPTION_KEYS, then restart.")
        return
    keys.save_keys(keyring.file, keyring.keys[:1])
    click.echo(f"Kept the newest key of {keyring.file}, dropped {len(keyring.keys) - 1}. Restart "
               f"the web server and the workers so that they forget the old keys.")
