"""The settings a rule's deliveries are attempted with, decrypted and prepared once per version
of the rule in each worker process, not once per batch: a version is the rule's stored settings
and the time it was last saved, the keys that decrypt them, and what its action takes from
elsewhere (the default SMTP connection). An edit of the rule, a rotation of its secrets or a
change of the keys is a new version."""
import threading

from .. import actions
from ..keys import current_keyring
from ..rules.storage import stored_settings

# {rule id: (version, prepared settings)}: one entry per rule this process attempted.
_prepared = {}
_lock = threading.Lock()


def version(rule):
    """What the prepared settings of a rule (anything with its columns) are made of."""
    action = actions.get(rule.action)
    return (rule.updated_at, rule.secret_settings, rule.action_settings,
            current_keyring().keys, action.prepared_from(rule.action_settings or {}))


def prepared(rule):
    """The rule's complete settings, secrets decrypted, as its action executes them; the same
    object for every batch while the rule's version stays, so never to be changed. Raises what
    reading them raises (ValueError for secrets no key decrypts), remembering nothing then."""
    current = version(rule)
    with _lock:
        known = _prepared.get(rule.id)
    if known is not None and known[0] == current:
        return known[1]
    settings = actions.get(rule.action).prepare(stored_settings(rule))
    with _lock:
        _prepared[rule.id] = (current, settings)
    return settings
