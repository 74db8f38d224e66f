"""The placeholder values of events (SPEC §6), names read in one query per kind."""
import sqlalchemy as sa

from ..extensions import db
from ..models import Campaign, Channel, Mailer, OptOutList


def _names(model, column, ids):
    ids = {i for i in ids if i is not None}
    if not ids:
        return {}
    return dict(db.session.execute(sa.select(model.id, column).where(model.id.in_(ids))).all())


def values_for(events):
    """{event id: {placeholder: text}} for event rows (mappings of the events table)."""
    lists = _names(OptOutList, OptOutList.name, [e["list_id"] for e in events])
    campaigns = _names(Campaign, Campaign.name, [e["campaign_id"] for e in events])
    mailers = _names(Mailer, Mailer.company_name, [e["mailer_id"] for e in events])
    values = {}
    for e in events:
        contact = e["contact"] or ""
        values[e["id"]] = {
            "event_id": str(e["id"]), "trigger": str(e["trigger"]), "channel": str(e["channel"]),
            "contact": contact, "email": contact if e["channel"] == Channel.EMAIL else "",
            "phone": contact if e["channel"] == Channel.PHONE else "",
            "contact_md5": e["contact_md5"], "list_id": str(e["list_id"]),
            "list_name": lists.get(e["list_id"], ""),
            "campaign_id": str(e["campaign_id"] or ""),
            "campaign_name": campaigns.get(e["campaign_id"], ""),
            "mailer_id": str(e["mailer_id"] or ""), "mailer_name": mailers.get(e["mailer_id"], ""),
            "source": str(e["source"]),
            "occurred_at": e["occurred_at"].strftime("%Y-%m-%dT%H:%M:%SZ"),
        }
    return values
