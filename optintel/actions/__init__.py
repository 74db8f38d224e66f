"""The action registry: one module per action type, each a class with a form, a validator and an
execute. Adding an action is one new module listed here."""
from ..models import ActionType
from .add_to_list import AddToList
from .ping_url import PingUrl
from .remove_from_list import RemoveFromList
from .slack import SlackMessage
from .smtp import SmtpEmail

REGISTRY = {action.key: action() for action in
            (PingUrl, SmtpEmail, AddToList, RemoveFromList, SlackMessage)}


def get(key):
    """The action for a key (ActionType or its value)."""
    return REGISTRY[ActionType(key)]
