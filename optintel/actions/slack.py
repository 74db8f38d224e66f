"""Slack message: a POST of {"text": ...} to an incoming-webhook URL."""
import json
from urllib.parse import urlsplit

from wtforms import Form, PasswordField, TextAreaField
from wtforms.widgets import PasswordInput

from ..models import ActionType
from .. import placeholders
from . import http
from .base import MASK, Action, http_url, templated_text
from .ping_url import http_outcome


class SlackForm(Form):
    webhook_url = PasswordField("Incoming Webhook URL", widget=PasswordInput(hide_value=False))
    text = TextAreaField("Message", default="Contact {{contact}} {{trigger}} on {{list_name}}")


class SlackMessage(Action):
    key = ActionType.SLACK
    label = "Slack message"
    Form = SlackForm
    settings_doc = "{webhook_url, text}"
    # The webhook URL is itself the credential.
    secrets = ("webhook_url",)
    templated = ("text",)
    on_sending_loop = True

    def validate(self, raw, context, errors):
        return {"webhook_url": http_url(raw, "webhook_url", errors, context.policy),
                "text": templated_text(raw, "text", errors, limit=40_000)}

    def summary(self, settings, viewer=None):
        return f"Slack webhook {settings['webhook_url']} · “{settings['text']}”"

    def host(self, settings):
        return urlsplit(settings["webhook_url"]).hostname or ""

    async def execute_async(self, work):
        body = json.dumps({"text": placeholders.render(work.settings["text"], work.values)})
        url = work.settings["webhook_url"]
        result = await http.send_async("POST", url, {"Content-Type": "application/json"}, body,
                                       10, work.policy)
        # The webhook URL is the credential: the log shows its host only.
        parts = urlsplit(url)
        shown = f"{parts.scheme}://{parts.netloc.rpartition('@')[2]}/{MASK}"
        return http_outcome(result, {"method": "POST", "url": shown, "body": body})
