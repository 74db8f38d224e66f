"""`flask api-keys`: keys for the REST API."""
import click
import sqlalchemy as sa
from flask.cli import AppGroup

from .. import catalog
from ..extensions import db
from ..models import ApiKey, User
from ..validation import Invalid
from . import InvalidInput

api_keys = AppGroup("api-keys", help="Keys for the REST API.")


@api_keys.command("create")
@click.argument("email")
@click.option("--name", default="", help="What the key is for.")
def create(email, name):
    """Issue a key acting as the user EMAIL; the key is printed alone on the last line, once."""
    user = db.session.scalar(sa.select(User).where(User.email == email.strip().lower()))
    if user is None:
        raise click.ClickException(f"No user has the email {email}.")
    try:
        row = catalog.apply_api_key(ApiKey(), user_id=user.id, name=name)
    except Invalid as invalid:
        raise InvalidInput(invalid) from None
    db.session.add(row)
    db.session.commit()
    click.echo(f"API key {row.prefix}… for {user.email}. Only its hash is kept; copy it now:")
    click.echo(row.plain_key)
