"""`flask users`: people who use the dashboard."""
import click
from flask.cli import AppGroup

from .. import catalog
from ..extensions import db
from ..models import Role, User
from ..validation import Invalid
from . import InvalidInput

users = AppGroup("users", help="Dashboard users.")


@users.command("create")
@click.argument("email")
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True,
              help=f"At least {catalog.PASSWORD_MIN_LENGTH} characters; asked for when left out.")
@click.option("--role", required=True, type=click.Choice([role.value for role in Role]))
@click.option("--name", default="", help="The name shown in the dashboard.")
def create(email, password, role, name):
    """Create a user who logs in with EMAIL and the password."""
    user = User()
    try:
        catalog.apply_user(user, email=email, name=name, role=role, password=password)
    except Invalid as invalid:
        raise InvalidInput(invalid) from None
    db.session.add(user)
    db.session.commit()
    click.echo(f"Created {user.role.label} {user.email} (id {user.id}).")
