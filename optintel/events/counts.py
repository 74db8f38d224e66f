"""The daily counts of contact events by list, campaign and trigger, moved in the transaction
that records the events: the home page's figures read them, not the events."""
from collections import Counter

from ..models import EventCount
from ..sql import add_counts


def add(opt_out_list, trigger, rows, now):
    """Count the events of these changed contact rows ((md5, value, mailer_id, campaign_id)),
    recorded at `now`."""
    by_campaign = Counter(campaign_id or 0 for _, _, _, campaign_id in rows)
    day = now.replace(hour=0, minute=0, second=0, microsecond=0)
    add_counts(EventCount.__table__, ("day", "list_id", "campaign_id", "trigger"), [
        {"day": day, "list_id": opt_out_list.id, "campaign_id": campaign_id,
         "channel": opt_out_list.channel, "trigger": trigger, "count": count}
        for campaign_id, count in by_campaign.items()])
