"""Every API blueprint, in the order they appear in the OpenAPI document."""
from . import campaigns, deliveries, events, lists, mailers, rule_test_runs, rules, tracking_log

ALL = [mailers.bp, lists.email_bp, lists.phone_bp, campaigns.email_bp, campaigns.sms_bp, events.bp,
       rules.bp, rule_test_runs.bp, deliveries.bp, tracking_log.bp]
