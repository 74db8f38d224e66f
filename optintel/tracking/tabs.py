"""Where the Tracking tab of each level is, for the links to a rule from other pages (the home
page, the Tracking Log, adjacent rules of another level)."""
from flask import url_for

from ..models import Level


def tab_url(level, scope_id, rule_id=None):
    """The address of the Tracking tab of a level and scope, at the rule's row if one is named."""
    if level == Level.PROJECT:
        url = url_for("settings.opt_intel_tracking")
    elif level.is_campaign:
        url = url_for("campaigns.tracking", channel=level.channel, campaign_id=scope_id)
    else:
        url = url_for("lists.tracking", channel=level.channel, list_id=scope_id)
    return f"{url}#rule-{rule_id}" if rule_id else url
