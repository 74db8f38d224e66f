import sqlalchemy as sa
from flask_wtf import FlaskForm
from wtforms import SelectField, StringField, SubmitField
from wtforms.validators import DataRequired, Length

from ..catalog import API_KEY_NAME_LIMIT
from ..extensions import db
from ..ids import to_id
from ..models import User


class ApiKeyForm(FlaskForm):
    """A new API key: whose it is and what it is for; catalog.apply_api_key issues it."""

    user_id = SelectField("User", coerce=to_id)
    name = StringField("Name", validators=[DataRequired(), Length(max=API_KEY_NAME_LIMIT)],
                       description="What the key is for, e.g. the system that uses it.")
    submit = SubmitField("Create API Key")

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.user_id.choices = [(u.id, f"{u.email} ({u.role.label})") for u in db.session.scalars(
            sa.select(User).where(User.active).order_by(User.email))]

    def changes(self):
        """The fields as catalog.apply_api_key takes them."""
        return {"user_id": self.user_id.data, "name": self.name.data.strip()}
