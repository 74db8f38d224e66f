"""What every action shares: validation helpers, secrets kept apart, masking, and the shape of
one execution (Work in, Outcome out)."""
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from wtforms import Form

from .. import placeholders
from ..validation import Collector
from . import sending_loop
from .credentials import MASK
from .target_policy import project_policy, refusal_at_save

# Said beside a secret sent back as the mask when its target changed: it is not sent along.
TARGET_CHANGED = "The target changed: type the secret again."


@dataclass
class Work:
    """One attempt of a delivery, as an action executes it."""

    delivery_id: int
    rule_id: int
    settings: dict  # complete, secrets decrypted
    values: dict  # placeholder values of the event
    event: dict  # the event's columns
    policy: object = None  # target_policy.TargetPolicy for actions that reach a host
    viewer: object = None  # who sees the result of a Test Run; None for a delivery


@dataclass
class Outcome:
    """What an attempt did. `permanent`: retrying cannot help (refused target, chain limit)."""

    succeeded: bool
    request: dict = field(default_factory=dict)
    response_status: int | None = None
    response_headers: dict = field(default_factory=dict)
    response_body: str = ""
    error: str = ""
    retry_after: float | None = None
    permanent: bool = False
    skipped: bool = False
    started_at: object = None  # set by whoever runs the attempt
    duration_ms: int = 0


class RuleContext:
    """What validation needs to know of the rule being saved: its level and scope object, and
    who saves it (None: no one to check, e.g. the command line), and the target policy its
    targets are judged by (the project's unless given)."""

    def __init__(self, level, scope=None, user=None, policy=None):
        self.level, self.scope, self.user = level, scope, user
        self.policy = policy or project_policy()

    @property
    def channel(self):
        return self.level.channel

    @property
    def own_list_ids(self):
        """The list ids a list-level rule watches: its list and, for a Grouped list, the members."""
        if not self.level.is_list or self.scope is None:
            return set()
        return {self.scope.id, *(m.id for m in self.scope.members)}


class Action:
    """Base of every action type. Subclasses set key, label, Form and fields of their settings."""

    key = None
    label = ""
    Form = Form
    # The settings' shape, for the API's documentation.
    settings_doc = ""
    # Top-level settings whose values are secrets: stored encrypted, shown as MASK.
    secrets = ()
    # Form fields holding secrets, and what the pop-up says beside them when editing: which
    # changes of the target drop them (see target).
    secret_fields = ()
    binding_note = ""
    # Settings whose text may hold {{placeholders}}.
    templated = ()
    # Whether execute may run in a thread of the job's pool (no database work in it).
    in_pool = True
    # Whether a delivery's attempt is execute_async on the sending loop (HTTP) instead.
    on_sending_loop = False
    # What the Tracking Log calls the body of an answer.
    reply_label = "Body (excerpt)"
    # Whether a Test Run only says what the action would change, changing nothing.
    test_changes_nothing = False
    # Whether it needs the event's contact (so cannot act on meta events).
    acts_on_contact = False

    def clean(self, raw, context, stored=None):
        """Validated settings from raw input (API JSON or form data), where MASK stands for a
        secret of the `stored` settings while their target stays; raises Invalid."""
        errors = Collector()
        raw = self.unmask(dict(raw or {}), stored or {}, errors)
        settings = self.validate(raw, context, errors)
        errors.raise_if_any()
        return settings

    def validate(self, raw, context, errors):
        raise NotImplementedError

    # Execution ---------------------------------------------------------------------------

    def host(self, settings):
        """Where the action goes, for the Tracking Log's Host column; empty when nowhere."""
        return ""

    def target_list_id(self, settings):
        """The opt-out list the action changes, if it changes one: the rule then applies to
        events of that list's channel only."""
        return None

    def prepare(self, settings):
        """Settings completed with what execution needs from the database (in the job's thread)."""
        return settings

    def prepared_from(self, public_settings):
        """What prepare takes from outside the rule, given its settings without secrets: when
        it changes, the prepared settings are made again. None: nothing."""
        return None

    def execute(self, work):
        """Run one attempt; returns an Outcome and never raises for a failed attempt."""
        if self.on_sending_loop:
            # Called from a thread that is not the loop's: a Test Run.
            return sending_loop.run(self.execute_async(work))
        raise NotImplementedError

    async def execute_async(self, work):
        """execute, as a coroutine of the sending loop, for actions on_sending_loop."""
        raise NotImplementedError

    def test(self, work):
        """A Test Run of the action: by default, a real attempt."""
        return self.execute(work)

    # Secrets -----------------------------------------------------------------------------

    def split(self, settings):
        """(public settings, secret settings) for storage."""
        public = {k: v for k, v in settings.items() if k not in self.secrets}
        secret = {k: settings[k] for k in self.secrets if settings.get(k)}
        return public, secret

    def merge(self, public, secret):
        """The full settings from the stored parts; an empty secret is stored as none."""
        return {**{key: "" for key in self.secrets}, **public, **secret}

    def mask(self, settings):
        """The settings as shown back to people and the API: secrets replaced by MASK."""
        return {k: (MASK if k in self.secrets and v else v) for k, v in settings.items()}

    def target(self, settings):
        """What the secrets of the settings are bound to; None: to nothing but themselves."""
        return None

    def bound(self, raw, stored):
        """Whether the raw input aims at the stored settings' target, so that a MASK in it may
        stand for a stored secret."""
        return self.target(raw) == self.target(stored)

    def unmask(self, raw, stored, errors):
        """Input where MASK stands for the stored secret: the stored value while the target
        stays; else nothing, and TARGET_CHANGED beside the field: a stored secret never goes
        to another target."""
        bound = self.bound(raw, stored)
        for key in self.secrets:
            if raw.get(key) == MASK:
                raw[key] = stored.get(key, "") if bound else ""
                if not bound and stored.get(key):
                    errors.add(key, TARGET_CHANGED)
        return raw

    # Presentation ------------------------------------------------------------------------

    def summary(self, settings, viewer=None):
        """A one-line readable summary of masked settings for the rules table, as `viewer`
        may see it."""
        raise NotImplementedError

    def placeholders_used(self, settings):
        """The placeholder names the settings use, in order."""
        names = []
        for key in self.templated:
            value = settings.get(key)
            for text in value if isinstance(value, list) else [value]:
                names += [n for n in placeholders.used(text) if n not in names]
        return names

    def form_data(self, settings):
        """Values to fill the action's form with (masked settings)."""
        return dict(settings)

    def from_form(self, form):
        """Raw settings from a submitted form, in the API's shape."""
        return {name: form[name].data for name in self.Form()._fields}

    def form_field(self, setting):
        """The name of the form field that shows a setting and its messages."""
        return setting

    @property
    def placeholder_fields(self):
        """The form fields whose text may hold {{placeholders}}: the pop-up offers a picker."""
        return tuple(self.form_field(key) for key in self.templated)


# Validation helpers shared by the actions ------------------------------------------------

def text(raw, key, errors, required=True, limit=10_000):
    """A string setting, trimmed; required unless said otherwise."""
    value = raw.get(key, "")
    if value is None:
        value = ""
    if not isinstance(value, str):
        errors.add(key, "Must be text.")
        return ""
    value = value.strip()
    if required and not value:
        errors.add(key, "This field is required.")
    elif len(value) > limit:
        errors.add(key, f"At most {limit} characters.")
    return value


def known_placeholders(value, key, errors):
    """Refuse placeholders that are not in SPEC §6, naming them."""
    for name in placeholders.unknown(value):
        errors.add(key, f"Unknown placeholder {{{{{name}}}}}.")


def templated_text(raw, key, errors, required=True, limit=10_000):
    value = text(raw, key, errors, required, limit)
    known_placeholders(value, key, errors)
    return value


def http_url(raw, key, errors, policy, required=True):
    """An http(s) URL, valid once its placeholders are replaced by sample values, whose host
    (unless a placeholder makes it) is a host name that the policy lets requests reach."""
    value = templated_text(raw, key, errors, required, limit=2000)
    if value and not placeholders.unknown(value):
        rendered = placeholders.render(value, placeholders.SAMPLES, "url")
        parts = urlsplit(rendered)
        if parts.scheme not in ("http", "https") or not parts.hostname or " " in rendered:
            errors.add(key, "Enter an http:// or https:// URL.")
            return value
        try:
            port = parts.port or (443 if parts.scheme == "https" else 80)
        except ValueError:
            errors.add(key, "The port of the URL is not a number.")
            return value
        if "{{" not in urlsplit(value).netloc:
            target_host(parts.hostname, port, key, errors, policy)
    return value


def target_host(host, port, key, errors, policy):
    """Refuse a malformed host, or one whose addresses the policy refuses, naming where to
    allow it; a host that does not resolve yet is judged when sent."""
    refusal = refusal_at_save(host, port, policy)
    if refusal:
        errors.add(key, refusal)


def choice(raw, key, errors, choices, default=None):
    value = raw.get(key) or default
    if value not in choices:
        errors.add(key, f"Choose one of: {', '.join(choices)}.")
    return value


def integer(raw, key, errors, low, high, default):
    value = raw.get(key)
    if value in (None, ""):
        return default
    try:
        number = int(value)
    except (TypeError, ValueError):
        errors.add(key, "Must be a whole number.")
        return default
    if isinstance(value, float) and value != number or not low <= number <= high:
        errors.add(key, f"Must be between {low} and {high}.")
    return number
