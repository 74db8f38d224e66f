"""The Tracking Log from code: every delivery the caller may see, with the page's filters,
newest first by keyset. Contacts are masked; Test Runs are not in it."""
import sqlalchemy as sa
from flask_login import current_user

from ..access import visible_deliveries_query
from ..extensions import db
from ..models import Delivery, Event
from ..tracking_log.filters import LogFilter, apply
from ..tracking_log.masking import mask_contact
from ..validation import Invalid
from . import blueprint, fails_with
from .crud import page_after
from .schemas import TrackingLogItemSchema, TrackingLogPageSchema, TrackingLogQuerySchema

bp = blueprint("/tracking-log", "The Tracking Log: what each tracking rule did for each event, "
               "newest first, with the filters of its page. Global Admins see every delivery; "
               "Campaign Managers and List Owners those of the rules they manage.")
ITEM_FIELDS = tuple(name for name in TrackingLogItemSchema().fields if name != "contact")


@bp.route("", methods=["GET"])
@fails_with(bp, 422)
@bp.arguments(TrackingLogQuerySchema, location="query")
@bp.response(200, TrackingLogPageSchema)
def index(args):
    """Deliveries matching the filters, newest first; pass next_after_id as after_id to read
    older ones."""
    log_filter = LogFilter.from_args(args)
    if log_filter.errors:
        raise Invalid({name: [message] for name, message in log_filter.errors.items()})
    query = apply(visible_deliveries_query(current_user), Delivery.__table__, log_filter)
    page = page_after(query, Delivery.id, args.get("after_id"), args["limit"], newest_first=True)
    return {**page, "items": log_items(page["items"])}


def log_items(deliveries):
    """The deliveries as the log shows them: their columns and the contact masked."""
    plain = dict(db.session.execute(sa.select(Event.id, Event.contact).where(
        Event.id.in_({d.event_id for d in deliveries}))).all()) if deliveries else {}
    return [{**{name: getattr(d, name) for name in ITEM_FIELDS},
             "contact": mask_contact(plain.get(d.event_id), d.contact_md5)} for d in deliveries]
