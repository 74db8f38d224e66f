from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, PasswordField, SelectField, StringField, SubmitField

from ..catalog import PASSWORD_MIN_LENGTH
from ..models import Role


class UserCreateForm(FlaskForm):
    """A new user; catalog.apply_user validates it."""

    email = EmailField("Email")
    name = StringField("Name")
    role = SelectField("Role", choices=[(role.value, role.label) for role in Role])
    password = PasswordField("Password", description=f"At least {PASSWORD_MIN_LENGTH} characters.")
    submit = SubmitField("Create User")

    def changes(self):
        """The fields as catalog.apply_user takes them."""
        return {name: self[name].data for name in ("email", "name", "role", "password")}


class UserEditForm(FlaskForm):
    """What an admin may change on a user; catalog.apply_user validates it."""

    name = StringField("Name")
    role = SelectField("Role", choices=[(role.value, role.label) for role in Role])
    active = BooleanField("Active")
    password = PasswordField("New Password", description="Leave empty to keep the current password.")
    submit = SubmitField("Save")

    def changes(self):
        """The fields as catalog.apply_user takes them."""
        return {name: self[name].data for name in ("name", "role", "active", "password")}
