"""How a rule's action settings are stored: the secrets apart, as one Fernet token of their
JSON, the rest in clear; and read back whole or masked."""
import json

from .. import actions, secrets


def store_settings(rule, settings):
    """Keep complete, validated settings on the rule: secrets encrypted, the rest as they are."""
    public, secret = actions.get(rule.action).split(settings)
    rule.action_settings = public
    rule.secret_settings = secrets.encrypt(json.dumps(secret)) if secret else ""


def stored_settings(rule):
    """The full action settings of a rule, secrets decrypted."""
    secret = json.loads(secrets.decrypt(rule.secret_settings) or "{}")
    return actions.get(rule.action).merge(rule.action_settings or {}, secret)


def masked_settings(rule):
    """The action settings as people and the API see them: secrets masked."""
    return actions.get(rule.action).mask(stored_settings(rule))
