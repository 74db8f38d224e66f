"""Database tables of Opt-Intel, one module per part of the domain."""
from .enums import (ActionType, AttemptState, Channel, ContactSource, DeliveryStatus,
                    DownloadFormat, ImportMode, ImportStatus, Level, ListKind, Role, RuleStatus,
                    Status, Storage, Trigger)
from .users import ApiKey, User
from .mailers import Mailer
from .lists import Contact, OptOutList, list_members
from .campaigns import Campaign, campaign_lists, campaign_mailers
from .events import Event, EventCount
from .settings import ProjectSettings
from .rules import TrackingRule
from .deliveries import Attempt, Delivery
from .logs import DeliveryCount, LogAccess, TestRun
from .imports import ContactImport, ImportChunk, ListDownload
from .sms_replies import SmsReply

__all__ = [
    "ActionType", "ApiKey", "Attempt", "AttemptState", "Delivery", "DeliveryCount", "DeliveryStatus",
    "LogAccess", "TestRun", "Campaign", "Channel", "Contact", "ContactImport", "ContactSource",
    "DownloadFormat", "Event", "EventCount", "ImportChunk", "ImportMode", "ImportStatus", "Level",
    "ListDownload", "ListKind", "Mailer", "OptOutList", "ProjectSettings", "Role", "RuleStatus",
    "SmsReply", "Status", "Storage",
    "TrackingRule", "Trigger", "User", "campaign_lists", "campaign_mailers", "list_members",
]
