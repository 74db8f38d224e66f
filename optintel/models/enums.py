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
    ACTION = "action"

    @property
    def label(self):
        return {"manual": "Manual", "upload": "File upload", "api": "API",
                "unsubscribe": "Unsubscribe link", "action": "Tracking action"}[self.value]


class Trigger(StrEnum):
    CONTACT_ADDED = "contact_added"
    CONTACT_DELETED = "contact_deleted"

    @property
    def label(self):
        return {"contact_added": "[Opt-Intel] Contact Added",
                "contact_deleted": "[Opt-Intel] Contact Deleted"}[self.value]


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

    @property
    def label(self):
        return self.value.capitalize()

    @classmethod
    def in_flight_statuses(cls):
        """Statuses of deliveries that still have an attempt to come."""
        return (cls.PENDING, cls.RETRYING)

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
