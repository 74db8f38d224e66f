from flask_wtf import FlaskForm
from wtforms import SelectField, StringField, SubmitField
from wtforms.validators import DataRequired, Length


class ApiKeyForm(FlaskForm):
    """A new API key: whose it is and what it is for."""

    user_id = SelectField("User", coerce=int)
    name = StringField("Name", validators=[DataRequired(), Length(max=120)],
                       description="What the key is for, e.g. the system that uses it.")
    submit = SubmitField("Create API Key")
