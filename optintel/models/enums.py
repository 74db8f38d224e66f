"""The fixed vocabularies of the product, as str enums stored by value."""
from enum import StrEnum


class Role(StrEnum):
    GLOBAL_ADMIN = "global_admin"
    CAMPAIGN_MANAGER = "campaign_manager"
    LIST_OWNER = "list_owner"

    @property
    def label(self):
        return {"global_admin": "Global Admin", "campaign_manager": "Campaign Manager",
                "list_owner": "List Owner"}[self.value]


class Status(StrEnum):
    ACTIVE = "active"
    DISABLED = "disabled"

    @property
    def label(self):
        return self.value.capitalize()


class RuleStatus(StrEnum):
    """A tracking rule's status: people make it active or disabled; its deliveries failing
    without end pause it (deliveries/endpoint_health.py) until it is enabled again."""

    ACTIVE = "active"
    DISABLED = "disabled"
    PAUSED = "paused"

    @property
    def label(self):
        return self.value.capitalize()

    @classmethod
    def settable_statuses(cls):
        """What a person may set; paused only comes from the rule's failures."""
        return (cls.ACTIVE, cls.DISABLED)


class Channel(StrEnum):
    EMAIL = "email"
    PHONE = "phone"

    @property
    def label(self):
        return {"email": "Email", "phone": "Phone Number"}[self.value]

    @property
    def campaign_label(self):
        return {"email": "Email", "phone": "SMS"}[self.value]


class ListKind(StrEnum):
    SINGLE = "single"
    GROUPED = "grouped"

    @property
    def label(self):
        return self.value.capitalize()


class Storage(StrEnum):
    PLAIN_MD5 = "plain_md5"
    MD5 = "md5"

    @property
    def label(self):
        return {"plain_md5": "Plain & MD5", "md5": "MD5 only"}[self.value]


class ContactSource(StrEnum):
    MANUAL = "manual"
    UPLOAD = "upload"
    API = "api"
    UNSUBSCRIBE = "unsubscribe"
    SMS_REPLY = "sms_reply"
    ACTION = "action"

    @property
    def label(self):
        return {"manual": "Manual", "upload": "File upload", "api": "API",
                "unsubscribe": "Unsubscribe link", "sms_reply": "SMS reply",
                "action": "Tracking action"}[self.value]


class Trigger(StrEnum):
    CONTACT_ADDED = "contact_added"
    CONTACT_DELETED = "contact_deleted"
    # Meta events: what happens to the rules and deliveries themselves (meta_events.py).
    RULE_PAUSED = "rule_paused"
    RULE_RESUMED = "rule_resumed"
    DELIVERY_FAILED = "delivery_failed"

    @property
    def label(self):
        return {"contact_added": "[Opt-Intel] Contact Added",
                "contact_deleted": "[Opt-Intel] Contact Deleted",
                "rule_paused": "[Opt-Intel] Rule Paused",
                "rule_resumed": "[Opt-Intel] Rule Resumed",
                "delivery_failed": "[Opt-Intel] Delivery Failed"}[self.value]

    @classmethod
    def contact_triggers(cls):
        """The triggers of events about a contact: added to or deleted from an opt-out list."""
        return (cls.CONTACT_ADDED, cls.CONTACT_DELETED)

    @property
    def is_meta(self):
        """Whether the event is about the product's rules and deliveries, not a contact."""
        return self not in self.contact_triggers()


class Level(StrEnum):
    """Where a tracking rule is configured, and so which events it can fire for."""

    PROJECT = "project"
    EMAIL_CAMPAIGN = "email_campaign"
    SMS_CAMPAIGN = "sms_campaign"
    EMAIL_LIST = "email_list"
    PHONE_LIST = "phone_list"

    @property
    def label(self):
        return {"project": "Project", "email_campaign": "Email Campaign",
                "sms_campaign": "SMS Campaign", "email_list": "Email Opt-Out List",
                "phone_list": "Phone Number Opt-Out List"}[self.value]

    @property
    def channel(self):
        """The channel of the level's lists; None for Project (any channel)."""
        return {"project": None, "email_campaign": Channel.EMAIL, "sms_campaign": Channel.PHONE,
                "email_list": Channel.EMAIL, "phone_list": Channel.PHONE}[self.value]

    @classmethod
    def of_list(cls, channel):
        return cls.EMAIL_LIST if channel == Channel.EMAIL else cls.PHONE_LIST

    @classmethod
    def of_campaign(cls, channel):
        return cls.EMAIL_CAMPAIGN if channel == Channel.EMAIL else cls.SMS_CAMPAIGN

    @property
    def is_campaign(self):
        return self in (Level.EMAIL_CAMPAIGN, Level.SMS_CAMPAIGN)

    @property
    def is_list(self):
        return self in (Level.EMAIL_LIST, Level.PHONE_LIST)

    @property
    def trigger_settings(self):
        """The Trigger Settings block of the level (SPEC §5)."""
        if self == Level.PROJECT:
            return ("contact_list_ids", "mailer_ids")
        return ("mailer_ids",) if self.is_campaign else ()

    def trigger_settings_for(self, trigger):
        """The level's Trigger Settings for a trigger: a meta event has no list or mailer to
        filter on."""
        return () if Trigger(trigger).is_meta else self.trigger_settings

    @property
    def triggers(self):
        """The triggers its rules may act on: meta events at Project level only."""
        return tuple(t for t in Trigger if self == Level.PROJECT or not t.is_meta)


class ActionType(StrEnum):
    PING_URL = "ping_url"
    SMTP = "smtp"
    ADD_TO_LIST = "add_to_list"
    REMOVE_FROM_LIST = "remove_from_list"
    SLACK = "slack"


class DeliveryStatus(StrEnum):
    PENDING = "pending"
    SUCCEEDED = "succeeded"
    RETRYING = "retrying"
    FAILED = "failed"
    SKIPPED = "skipped"
    # Its rule is paused: not attempted, not lost, released when the rule resumes.
    HELD = "held"

    @property
    def label(self):
        return self.value.capitalize()

    @classmethod
    def in_flight_statuses(cls):
        """Statuses of deliveries that still have an attempt to come."""
        return (cls.PENDING, cls.RETRYING)

    @classmethod
    def unsettled_statuses(cls):
        """Statuses of deliveries that still wait for something: in flight, or held."""
        return (*cls.in_flight_statuses(), cls.HELD)

    @classmethod
    def retryable_statuses(cls):
        """Statuses of settled deliveries that may be retried by hand."""
        return (cls.FAILED, cls.SUCCEEDED)

    @property
    def in_flight(self):
        return self in self.in_flight_statuses()

    @property
    def retryable(self):
        return self in self.retryable_statuses()


class ImportMode(StrEnum):
    """What a file upload does with its values."""

    ADD = "add"
    DELETE = "delete"

    @property
    def label(self):
        return {"add": "Add", "delete": "Delete"}[self.value]


class ImportStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    CANCELLED = "cancelled"

    @property
    def label(self):
        return self.value.capitalize()

    @classmethod
    def in_flight_statuses(cls):
        """Statuses of imports that still have lines to go."""
        return (cls.QUEUED, cls.RUNNING)

    @property
    def in_flight(self):
        return self in self.in_flight_statuses()


class DownloadFormat(StrEnum):
    """How a list is downloaded: plain values, their MD5s (one a line), or both as CSV."""

    PLAIN = "plain"
    MD5 = "md5"
    CSV = "csv"

    @property
    def label(self):
        return {"plain": "Plain values", "md5": "MD5", "csv": "CSV"}[self.value]


class AttemptState(StrEnum):
    """Where an attempt stands: sent with its outcome to come, completed (succeeded or failed),
    or cut short because its worker stopped before the outcome was recorded."""

    STARTED = "started"
    COMPLETED = "completed"
    INTERRUPTED = "interrupted"
