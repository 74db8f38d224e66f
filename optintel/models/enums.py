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
