import phonenumbers
from flask_wtf import FlaskForm
from wtforms import BooleanField, IntegerField, PasswordField, SelectField, StringField, SubmitField
from wtforms.validators import InputRequired, Length, NumberRange, ValidationError

from .. import secrets
from ..normalize import InvalidContact, normalize_email

REGION_CHOICES = [(region, f"{region} (+{phonenumbers.country_code_for_region(region)})")
                  for region in sorted(phonenumbers.SUPPORTED_REGIONS)]
SECURITY_CHOICES = [("none", "None"), ("starttls", "STARTTLS"), ("tls", "TLS")]
COPIED = ("default_phone_region", "smtp_host", "smtp_port", "smtp_security", "smtp_username",
          "smtp_from")


def _strip(value):
    return value.strip() if value else ""


class ProjectSettingsForm(FlaskForm):
    """The Opt-Intel > Settings subtab: default phone region and default SMTP connection."""

    default_phone_region = SelectField(
        "Default Phone Region", choices=REGION_CHOICES,
        description="Phone numbers typed without a +country code are read as numbers of this region.")
    smtp_host = StringField("SMTP Host", filters=[_strip], validators=[Length(max=255)])
    smtp_port = IntegerField("SMTP Port", validators=[InputRequired(), NumberRange(1, 65535)])
    smtp_security = SelectField("Security", choices=SECURITY_CHOICES)
    smtp_username = StringField("SMTP Username", filters=[_strip], validators=[Length(max=255)])
    smtp_password = PasswordField("SMTP Password", validators=[Length(max=1000)])
    clear_smtp_password = BooleanField("Clear the stored SMTP password")
    smtp_from = StringField("From Address", filters=[_strip])
    submit = SubmitField("Save")

    def validate_smtp_from(self, field):
        """A valid address, required once a host is set."""
        if not field.data:
            if self.smtp_host.data:
                raise ValidationError("Give the from address of the default SMTP connection.")
            return
        try:
            field.data = normalize_email(field.data)
        except InvalidContact as exc:
            raise ValidationError(str(exc)) from None

    def validate_clear_smtp_password(self, field):
        """Typing a new password and clearing the stored one contradict each other."""
        if field.data and self.smtp_password.data:
            raise ValidationError("Either type a new password or clear the stored one, not both.")

    def save_to(self, settings):
        """Copy the fields onto the settings row; the password changes only when typed or cleared."""
        for name in COPIED:
            setattr(settings, name, self[name].data)
        if self.smtp_password.data:
            settings.smtp_password_encrypted = secrets.encrypt(self.smtp_password.data)
        elif self.clear_smtp_password.data:
            settings.smtp_password_encrypted = ""
