"""Request and response bodies of the API: types, required fields and choices only; the domain's
rules (lengths, uniqueness, channels, members) live in optintel.catalog and are checked there."""
from marshmallow import Schema, fields, pre_dump, validate

from .. import sms_replies
from ..actions.credentials import MASK
from ..config import Config
from ..ids import LARGEST
from ..models import (ActionType, AttemptState, Channel, ContactSource, DeliveryStatus,
                      ImportMode, ImportStatus, Level, ListKind, Status, Storage, Trigger)
from ..validation import ECHOED
from .fields import IdList, Integer


class _Id(Schema):
    id = Integer()


def _ids(attribute, description):
    """Ids of related objects, written as a list of integers."""
    return fields.Pluck(_Id, "id", many=True, attribute=attribute, dump_only=True,
                        metadata={"description": description})


def _status():
    return fields.Enum(Status, by_value=True)


# Mailers

class MailerSchema(Schema):
    id = Integer(dump_only=True)
    company_name = fields.String()
    nickname = fields.String()
    email = fields.String()
    web_address = fields.String()
    notes = fields.String()
    status = _status()
    created_at = fields.DateTime(dump_only=True)


class MailerChangesSchema(Schema):
    """The fields to change; the others keep their values."""

    company_name = fields.String()
    nickname = fields.String(metadata={"description": "Unique among mailers."})
    email = fields.String()
    web_address = fields.String(metadata={"description": "http:// or https:// address."})
    notes = fields.String()
    status = _status()


class NewMailerSchema(MailerChangesSchema):
    company_name = fields.String(required=True)
    nickname = fields.String(required=True, metadata={"description": "Unique among mailers."})
    email = fields.String(required=True)
    web_address = fields.String(load_default="")
    notes = fields.String(load_default="")
    status = fields.Enum(Status, by_value=True, load_default=Status.ACTIVE)


# Opt-out lists

class _ListSchema(Schema):
    id = Integer(dump_only=True)
    name = fields.String()
    type = fields.Enum(ListKind, by_value=True, attribute="kind")
    storage = fields.Enum(Storage, by_value=True, metadata={
        "description": "plain_md5 keeps the value and its MD5; md5 keeps the MD5 only."})
    members = _ids("members", "The Single lists of a Grouped list.")
    status = _status()
    owner_id = Integer(allow_none=True)
    contact_count = Integer(dump_only=True)
    created_at = fields.DateTime(dump_only=True)


class EmailListSchema(_ListSchema):
    suppressed_domains = fields.List(fields.String(), attribute="domains")


class PhoneListSchema(_ListSchema):
    pass


class _ListChanges(Schema):
    name = fields.String()
    status = _status()
    type = fields.Enum(ListKind, by_value=True, metadata={"description": "Fixed at creation."})
    storage = fields.Enum(Storage, by_value=True, metadata={"description": "Fixed at creation."})
    owner_id = Integer(allow_none=True, metadata={"description": "Global Admin only."})
    members = IdList(metadata={
        "description": "Ids of Single lists of the same channel; Grouped lists only. "
                       "Global Admin only."})


class EmailListChangesSchema(_ListChanges):
    """The fields to change; the others keep their values."""

    suppressed_domains = fields.List(fields.String())


class PhoneListChangesSchema(_ListChanges):
    """The fields to change; the others keep their values."""


class _NewList(Schema):
    """What a new list needs beyond its changes: a name, and the defaults of the list form."""

    name = fields.String(required=True)
    type = fields.Enum(ListKind, by_value=True, load_default=ListKind.SINGLE,
                       metadata={"description": "Fixed at creation."})
    storage = fields.Enum(Storage, by_value=True, load_default=Storage.PLAIN_MD5, metadata={
        "description": "plain_md5 keeps the value and its MD5; md5 keeps the MD5 only. "
                       "Fixed at creation."})
    status = fields.Enum(Status, by_value=True, load_default=Status.ACTIVE)


class NewEmailListSchema(_NewList, EmailListChangesSchema):
    pass


class NewPhoneListSchema(_NewList, PhoneListChangesSchema):
    pass


# Campaigns

class CampaignSchema(Schema):
    id = Integer(dump_only=True)
    name = fields.String()
    status = _status()
    manager_id = Integer(allow_none=True)
    mailer_ids = _ids("mailers", "The mailers that send the campaign.")
    list_ids = _ids("opt_out_lists", "The opt-out lists, of the campaign's channel, it is "
                                     "scrubbed against.")
    created_at = fields.DateTime(dump_only=True)


class CampaignChangesSchema(Schema):
    """The fields to change; the others keep their values."""

    name = fields.String()
    status = _status()
    manager_id = Integer(allow_none=True, metadata={"description": "Global Admin only."})
    mailer_ids = IdList()
    list_ids = IdList(metadata={
        "description": "Opt-out lists of the campaign's channel."})


class NewCampaignSchema(CampaignChangesSchema):
    name = fields.String(required=True)
    status = fields.Enum(Status, by_value=True, load_default=Status.ACTIVE)
    mailer_ids = IdList(load_default=list)
    list_ids = IdList(load_default=list, metadata={
        "description": "Opt-out lists of the campaign's channel."})


class SmsCampaignSchema(CampaignSchema):
    sms_auth_token = fields.Function(
        lambda campaign: MASK if campaign.sms_auth_token_encrypted else "",
        metadata={"description": f"{MASK} when a Twilio auth token is stored, else empty."})
    sms_webhook_url = fields.Function(sms_replies.webhook_url, metadata={
        "description": "The inbound-message webhook (HTTP POST) to give Twilio: STOP replies "
                       "add the sender to the campaign's active Single phone lists, START "
                       "deletes it again."})


class SmsCampaignChangesSchema(CampaignChangesSchema):
    """The fields to change; the others keep their values."""

    sms_auth_token = fields.String(metadata={
        "description": f"The Twilio auth token that signs the webhook's requests; write-only "
                       f"(shown as {MASK}). {MASK} keeps the stored one, empty removes it."})


class NewSmsCampaignSchema(NewCampaignSchema, SmsCampaignChangesSchema):
    pass


# Contacts of a list

def _batch(what):
    return fields.List(fields.Raw(allow_none=True), required=True,
                       validate=validate.Length(min=1, max=Config.OPTINTEL_MAX_BATCH),
                       metadata={"description": f"1 to {Config.OPTINTEL_MAX_BATCH:,} {what}; "
                                                f"each bad one is reported under invalid."})


_ORIGIN = {
    "mailer_id": Integer(allow_none=True, load_default=None,
                         metadata={"description": "The mailer the contacts came through."}),
    "campaign_id": Integer(allow_none=True, load_default=None, metadata={
        "description": "The campaign, of the list's channel, they came through."}),
}

EmailsToAddSchema = Schema.from_dict({"emails": _batch("email addresses"), **_ORIGIN},
                                     name="EmailsToAddSchema")
EmailsToRemoveSchema = Schema.from_dict({"emails": _batch("email addresses")},
                                        name="EmailsToRemoveSchema")
PhonesToAddSchema = Schema.from_dict({"phones": _batch("phone numbers"), **_ORIGIN},
                                     name="PhonesToAddSchema")
PhonesToRemoveSchema = Schema.from_dict({"phones": _batch("phone numbers")},
                                        name="PhonesToRemoveSchema")


class InvalidValueSchema(Schema):
    value = fields.Raw(metadata={"description": "The value as it was sent."})
    error = fields.String()


class _ContactsChangedSchema(Schema):
    """What an add or remove request did, from contact_changes' Outcome."""

    invalid = fields.List(fields.Nested(InvalidValueSchema), metadata={
        "description": f"The first {ECHOED} invalid values, in the order they came."})
    invalid_count = Integer(metadata={"description": "How many values were invalid in all."})

    @pre_dump
    def _first_invalid(self, outcome, **kwargs):
        return {"changed": outcome.changed, "unchanged": outcome.unchanged,
                "invalid": outcome.invalid[:ECHOED], "invalid_count": len(outcome.invalid)}


class AddedSchema(_ContactsChangedSchema):
    added = Integer(attribute="changed")
    existing = Integer(attribute="unchanged", metadata={
        "description": "Values already in the list (or repeated in the request): nothing fired."})


class RemovedSchema(_ContactsChangedSchema):
    removed = Integer(attribute="changed")
    missing = Integer(attribute="unchanged", metadata={
        "description": "Values not in the list (or repeated in the request): nothing fired."})


# Events

class EventSchema(Schema):
    id = Integer()
    trigger = fields.String(validate=validate.OneOf([t.value for t in Trigger.contact_triggers()]))
    channel = fields.Enum(Channel, by_value=True)
    list_id = Integer()
    contact = fields.String(allow_none=True, metadata={
        "description": "The email address or phone number, in clear for Global Admins and the "
                       "list's owner, masked (j***@example.com) for others; null for MD5-only "
                       "lists."})
    contact_md5 = fields.String()
    source = fields.Enum(ContactSource, by_value=True)
    mailer_id = Integer(allow_none=True)
    campaign_id = Integer(allow_none=True)
    caused_by_event_id = Integer(allow_none=True, metadata={
        "description": "The event whose tracking action made this change, if any."})
    occurred_at = fields.DateTime(metadata={"description": "ISO 8601, UTC."})


class EventQuerySchema(Schema):
    list_id = Integer()
    trigger = fields.String(validate=validate.OneOf(
        [t.value for t in Trigger.contact_triggers()]))
    after_id = Integer(load_default=0, metadata={
        "description": "Events after this id; next_after_id of the previous page."})
    limit = Integer(load_default=100, validate=validate.Range(min=1, max=1000))


class EventPageSchema(Schema):
    items = fields.List(fields.Nested(EventSchema))
    next_after_id = Integer(allow_none=True, metadata={
        "description": "after_id of the next page; null on the last page."})


# Deliveries

class DeliverySummarySchema(Schema):
    """A delivery as its event lists it."""

    id = Integer()
    rule_id = Integer(allow_none=True, metadata={
        "description": "null once the rule is deleted."})
    action = fields.Enum(ActionType, by_value=True)
    status = fields.Enum(DeliveryStatus, by_value=True, metadata={
        "description": "pending, retrying (see next_attempt_at), succeeded, failed, skipped "
                       "(the rule was disabled or deleted before it ran), or held (its rule is "
                       "paused: not attempted until the rule resumes)."})
    attempts = Integer(metadata={"description": "How many attempts were made."})
    last_response_status = Integer(allow_none=True, metadata={
        "description": "The HTTP status (or SMTP reply code) of the last attempt, if any."})
    next_attempt_at = fields.DateTime(allow_none=True, metadata={
        "description": "ISO 8601, UTC; null once nothing more is due."})


class DeliverySchema(DeliverySummarySchema):
    event_id = Integer()
    note = fields.String(metadata={"description": "Why it was skipped, or who retried it."})
    created_at = fields.DateTime()
    updated_at = fields.DateTime()


class AttemptSchema(Schema):
    number = Integer()
    # A string: the masking of contacts in attempts hands back plain strings.
    state = fields.String(validate=validate.OneOf([s.value for s in AttemptState]), metadata={
        "description": "started (sent, its outcome to come), completed, or interrupted (the "
                       "worker stopped during this attempt: the receiver may have had it; the "
                       "next attempt carries the same webhook-id)."})
    started_at = fields.DateTime()
    duration_ms = Integer()
    succeeded = fields.Boolean()
    request = fields.Dict(metadata={"description": "What was sent, secrets masked."})
    response_status = Integer(allow_none=True)
    response_headers = fields.Dict()
    response_body = fields.String(metadata={
        "description": "The first 4 KB of the response body, or the SMTP server's reply."})
    error = fields.String(metadata={"description": "Why no answer came (refused, timed out...)."})


class DeliveryDetailSchema(DeliverySchema):
    attempts = fields.List(fields.Nested(AttemptSchema), attribute="attempt_rows",
                           metadata={"description": "Every attempt, oldest first."})


class DeliveryQuerySchema(Schema):
    event_id = Integer()
    rule_id = Integer()
    status = fields.Enum(DeliveryStatus, by_value=True)
    after_id = Integer(load_default=0, metadata={
        "description": "Deliveries after this id; next_after_id of the previous page."})
    limit = Integer(load_default=100, validate=validate.Range(min=1, max=1000))


class DeliveryPageSchema(Schema):
    items = fields.List(fields.Nested(DeliverySchema))
    next_after_id = Integer(allow_none=True, metadata={
        "description": "after_id of the next page; null on the last page."})


class EventWithDeliveriesSchema(EventSchema):
    deliveries = fields.List(fields.Nested(DeliverySummarySchema), metadata={
        "description": "The deliveries of the event whose rules you may manage, oldest first."})


# Tracking Log

def _log_filter(description, **metadata):
    """A filter of the Tracking Log, read as text and checked by the log's own filter (the page's
    rules, the page's messages); `metadata` documents its type."""
    return fields.String(metadata={"description": description, **metadata})


def _id_filter(description):
    return _log_filter(description, type="integer", minimum=0, maximum=LARGEST)


def _values(enum):
    return {"enum": [member.value for member in enum]}


class TrackingLogQuerySchema(Schema):
    date_from = _log_filter("Deliveries created on or after this day (UTC).", format="date")
    date_to = _log_filter("Deliveries created on or before this day (UTC).", format="date")
    level = _log_filter("The level of the rule.", **_values(Level))
    scope_id = _id_filter("The campaign or list the rule is configured on.")
    trigger = _log_filter("The trigger of the event.", **_values(Trigger))
    action = _log_filter("The action of the rule.", **_values(ActionType))
    status = _log_filter("The delivery's status.", **_values(DeliveryStatus))
    host = _log_filter("Where the action went: the host of its URL or SMTP server.")
    list_id = _id_filter("The opt-out list of the event.")
    mailer_id = _id_filter("The mailer of the event.")
    campaign_id = _id_filter("The campaign of the event.")
    rule_id = _id_filter("The tracking rule.")
    contact = _log_filter("An email address or phone number (normalised as lists do), or the "
                          "MD5 of one.")
    after_id = Integer(metadata={
        "description": "Deliveries older than this id; next_after_id of the previous page."})
    limit = Integer(load_default=100, validate=validate.Range(min=1, max=1000))


class TrackingLogItemSchema(Schema):
    id = Integer()
    created_at = fields.DateTime()
    contact = fields.String(metadata={
        "description": "Masked (j***@example.com, +1******4567); the MD5 for MD5-only lists; "
                       "empty for a meta event (a rule paused or resumed)."})
    contact_md5 = fields.String(allow_none=True, metadata={
        "description": "null for a meta event that is about no contact."})
    host = fields.String()
    level = fields.Enum(Level, by_value=True)
    scope_id = Integer(allow_none=True)
    trigger = fields.Enum(Trigger, by_value=True)
    action = fields.Enum(ActionType, by_value=True)
    rule_id = Integer(allow_none=True, metadata={
        "description": "null once the rule is deleted."})
    event_id = Integer()
    attempts = Integer()
    status = fields.Enum(DeliveryStatus, by_value=True)
    last_response_status = Integer(allow_none=True, metadata={
        "description": "The HTTP status (or SMTP reply code) of the last attempt, if any."})
    next_attempt_at = fields.DateTime(allow_none=True)


class TrackingLogPageSchema(Schema):
    items = fields.List(fields.Nested(TrackingLogItemSchema))
    next_after_id = Integer(allow_none=True, metadata={
        "description": "after_id of the next (older) page; null on the last page."})


# Imports of files

class ImportSchema(Schema):
    id = Integer()
    list_id = Integer()
    mode = fields.Enum(ImportMode, by_value=True)
    status = fields.Enum(ImportStatus, by_value=True, metadata={
        "description": "queued, running, done, failed or cancelled."})
    file_name = fields.String()
    encoding = fields.String(metadata={"description": "The encoding the file was read in."})
    format = fields.String(attribute="file_format", metadata={"description": "txt or csv."})
    column = fields.String(metadata={"description": "The CSV column read."})
    mailer_id = Integer(allow_none=True)
    campaign_id = Integer(allow_none=True)
    total = Integer(metadata={"description": "Values in the file."})
    processed = Integer(metadata={"description": "Values handled so far."})
    added = Integer()
    deleted = Integer()
    existing = Integer(metadata={"description": "Values already in the list."})
    missing = Integer(metadata={"description": "Values to delete that were not there."})
    invalid = Integer(metadata={"description": "Invalid lines (see invalid-lines)."})
    error = fields.String()
    created_at = fields.DateTime()
    started_at = fields.DateTime(allow_none=True)
    finished_at = fields.DateTime(allow_none=True)


UPLOAD_BODY = {"required": True, "content": {"multipart/form-data": {"schema": {
    "type": "object", "required": ["file"],
    "properties": {
        "file": {"type": "string", "format": "binary",
                 "description": "TXT (one value a line) or CSV; UTF-8 (with or without BOM), "
                                "UTF-16 or Latin-1, CRLF or LF."},
        "mode": {"type": "string", "enum": ["add", "delete"], "default": "add"},
        "column": {"type": "string", "description": "CSV: the header's name or the number "
                                                     "(1 first) of the column to read."},
        "mailer_id": {"type": "integer", "minimum": 0, "maximum": LARGEST},
        "campaign_id": {"type": "integer", "minimum": 0, "maximum": LARGEST},
    }}}}}
