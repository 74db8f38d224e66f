"""Every API blueprint, in the order they appear in the OpenAPI document."""
from . import campaigns, events, lists, mailers, rules

ALL = [mailers.bp, lists.email_bp, lists.phone_bp, campaigns.email_bp, campaigns.sms_bp, events.bp,
       rules.bp]
