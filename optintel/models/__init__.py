"""Database tables of Opt-Intel, one module per part of the domain."""
from .enums import Channel, ContactSource, ListKind, Role, Status, Storage, Trigger
from .users import ApiKey, User
from .mailers import Mailer
from .lists import Contact, OptOutList, list_members
from .campaigns import Campaign, campaign_lists, campaign_mailers
from .events import Event
from .settings import ProjectSettings

__all__ = [
    "ApiKey", "Campaign", "Channel", "Contact", "ContactSource", "Event", "ListKind", "Mailer",
    "OptOutList", "ProjectSettings", "Role", "Status",
    "Storage", "Trigger", "User", "campaign_lists", "campaign_mailers", "list_members",
]
