"""`flask api-keys`: keys for the REST API."""
import click
import sqlalchemy as sa
from flask.cli import AppGroup

from ..extensions import db
from ..models import ApiKey, User

api_keys = AppGroup("api-keys", help="Keys for the REST API.")


@api_keys.command("create")
@click.argument("email")
@click.option("--name", default="", help="What the key is for.")
def create(email, name):
    """Issue a key acting as the user EMAIL; the key is printed alone on the last line, once."""
    user = db.session.scalar(sa.select(User).where(User.email == email.strip().lower()))
    if user is None:
        raise click.ClickException(f"No user has the email {email}.")
    if len(name.strip()) > 120:
        raise click.ClickException("The name has at most 120 characters.")
    row, key = ApiKey.issue(user, name.strip())
    db.session.add(row)
    db.session.commit()
    click.echo(f"API key {row.prefix}… for {user.email}. Only its hash is kept; copy it now:")
    click.echo(key)
