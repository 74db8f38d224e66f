"""Slack message: a POST of {"text": ...} to an incoming-webhook URL."""
from wtforms import Form, PasswordField, TextAreaField
from wtforms.widgets import PasswordInput

from ..models import ActionType
from .base import Action, http_url, templated_text


class SlackForm(Form):
    webhook_url = PasswordField("Incoming Webhook URL", widget=PasswordInput(hide_value=False))
    text = TextAreaField("Message", default="Contact {{contact}} {{trigger}} on {{list_name}}")


class SlackMessage(Action):
    key = ActionType.SLACK
    label = "Slack message"
    Form = SlackForm
    # The webhook URL is itself the credential.
    secrets = ("webhook_url",)
    templated = ("text",)

    def validate(self, raw, context, errors):
        return {"webhook_url": http_url(raw, "webhook_url", errors),
                "text": templated_text(raw, "text", errors, limit=40_000)}

    def summary(self, settings):
        return f"Slack webhook {settings['webhook_url']} · “{settings['text']}”"
