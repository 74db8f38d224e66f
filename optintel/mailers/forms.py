from flask_wtf import FlaskForm
from wtforms import EmailField, SelectField, StringField, SubmitField, TextAreaField, URLField

from ..models import Status


class MailerForm(FlaskForm):
    """A mailer's fields; catalog.apply_mailer validates them."""

    company_name = StringField("Company Name")
    nickname = StringField("Nickname")
    email = EmailField("Email")
    web_address = URLField("Web Address")
    notes = TextAreaField("Notes")
    status = SelectField("Status", choices=[(s.value, s.label) for s in Status],
                         default=Status.ACTIVE.value)
    submit = SubmitField("Save")

    def changes(self):
        """The fields as catalog.apply_mailer takes them."""
        return {name: self[name].data for name in
                ("company_name", "nickname", "email", "web_address", "notes", "status")}
