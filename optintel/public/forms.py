"""The unsubscribe page's form. No CSRF token: the page sets no cookie, and the signed link,
not a session, is what authorises the change (see unsubscribe.py)."""
from wtforms import EmailField, Form


class UnsubscribeForm(Form):
    """The address to unsubscribe; unsubscribe_links.unsubscribe checks it."""

    email = EmailField("Email address")
