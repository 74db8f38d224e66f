"""The daily counts of contact events by list, campaign and trigger, moved in the transaction
that records the events: the home page's figures read them, not the events."""
from collections import Counter

from ..extensions import db
from ..models import EventCount
from ..sql import dialect_insert


def add(opt_out_list, trigger, rows, now):
    """Count the events of these changed contact rows ((md5, value, mailer_id, campaign_id)),
    recorded at `now`."""
    by_campaign = Counter(campaign_id or 0 for _, _, _, campaign_id in rows)
    day = now.replace(hour=0, minute=0, second=0, microsecond=0)
    table = EventCount.__table__
    stmt = dialect_insert(table)
    stmt = stmt.on_conflict_do_update(index_elements=["day", "list_id", "campaign_id", "trigger"],
                                      set_={"count": table.c.count + stmt.excluded.count})
    # In the order of the key, so that two transactions counting the same rows cannot deadlock.
    db.session.execute(stmt, [
        {"day": day, "list_id": opt_out_list.id, "campaign_id": campaign_id,
         "channel": opt_out_list.channel, "trigger": trigger, "count": count}
        for campaign_id, count in sorted(by_campaign.items())])
