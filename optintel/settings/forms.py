import phonenumbers
from flask_wtf import FlaskForm
from wtforms import (BooleanField, IntegerField, PasswordField, SelectField, StringField,
                     SubmitField, TextAreaField)
from wtforms.validators import InputRequired, Length, NumberRange, Optional, ValidationError

from ..models.settings import DEFAULT_RETRY_SCHEDULE
from ..normalize import InvalidContact, normalize_email

REGION_CHOICES = [(region, f"{region} (+{phonenumbers.country_code_for_region(region)})")
                  for region in sorted(phonenumbers.SUPPORTED_REGIONS)]
SECURITY_CHOICES = [("none", "None"), ("starttls", "STARTTLS"), ("tls", "TLS")]
FIELDS = ("default_phone_region", "smtp_host", "smtp_port", "smtp_security", "smtp_username",
          "smtp_password", "clear_smtp_password", "smtp_from", "retry_schedule",
          "allowed_target_cidrs", "log_retention_days", "pause_after_failures",
          "pause_after_seconds", "notification_recipients")
MAX_FAILURES, MAX_WINDOW = 100_000, 30 * 86400


def _strip(value):
    return value.strip() if value else ""


class ProjectSettingsForm(FlaskForm):
    """The Opt-Intel > Settings subtab: default phone region, default SMTP connection, and how
    deliveries are retried and where they may go (project_settings checks those)."""

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
    retry_schedule = StringField(
        "Retry Schedule",
        description="Seconds to wait before each attempt of a delivery, comma-separated; the "
                    "first is the first try (usually 0). At most 20 attempts and 2 days a wait; "
                    "when they are spent, the delivery is marked failed. Left empty: the "
                    f"Standard Webhooks schedule, {DEFAULT_RETRY_SCHEDULE}.")
    allowed_target_cidrs = TextAreaField(
        "Allowed Target Networks",
        description="By default, Ping URL, Slack and SMTP email actions (and the default SMTP "
                    "connection) refuse loopback, private, link-local and cloud metadata "
                    "addresses. They may reach the networks listed here anyway: CIDRs, one a "
                    "line, e.g. 10.20.0.0/16.")
    pause_after_failures = IntegerField(
        "Pause a rule after (failed attempts)", validators=[
            Optional(), NumberRange(0, MAX_FAILURES,
                                    message=f"Give a number from 0 to {MAX_FAILURES}.")],
        description="A rule whose every attempt failed, at least this many times in a row and "
                    "for the time below, is paused: its deliveries are held, not lost, until "
                    "it is enabled again, and its author and the recipients below are "
                    "emailed. A 410 Gone answer pauses it at once. 0 here or below: rules are "
                    "never paused.")
    pause_after_seconds = IntegerField(
        "…and failing for (seconds)", validators=[
            Optional(), NumberRange(0, MAX_WINDOW, message=f"Give a number of seconds from 0 "
                                                           f"to {MAX_WINDOW} (30 days).")],
        description="86400 is 24 hours.")
    notification_recipients = TextAreaField(
        "Notification Recipients",
        description="Who is emailed, besides the rule's author, when a rule is paused: one "
                    "address a line. Sent through the default SMTP connection above; without "
                    "it, nobody is emailed and the server's log says so.")
    log_retention_days = IntegerField(
        "Log retention (days)", validators=[
            Optional(), NumberRange(1, 3650, message="Give a number of days from 1 to 3650.")],
        description="Tracking Log rows (deliveries and their attempts, test runs, access "
                    "records) older than this are deleted every hour; 1 to 3650 days. Left "
                    "empty: unchanged.")
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

    def changes(self):
        """The fields as project_settings.apply_project_settings takes them."""
        return {name: self[name].data for name in FIELDS}
