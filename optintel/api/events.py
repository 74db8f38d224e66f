"""Events: every contact added to or deleted from an opt-out list, oldest first, read by keyset."""
from flask_login import current_user
from flask_smorest import abort

from .. import access
from ..extensions import db
from ..models import Delivery, Event
from ..tracking_log.masking import mask_contact
from . import blueprint, fails_with
from .crud import page_after
from .schemas import EventPageSchema, EventQuerySchema, EventSchema, EventWithDeliveriesSchema

bp = blueprint("/events", "Contacts added to and deleted from opt-out lists, as "
               "recorded; each caller sees the events of the lists and campaigns they may open.")
EVENT_FIELDS = tuple(EventSchema().fields)


def shown(events):
    """The events as the caller may see them: the contact in clear only for Global Admins and
    the owners of the events' lists, masked for everyone else."""
    in_clear = access.lists_in_clear(current_user, {e.list_id for e in events})
    return [{**{name: getattr(e, name) for name in EVENT_FIELDS},
             "contact": e.contact if e.list_id in in_clear
             else e.contact and mask_contact(e.contact, e.contact_md5)} for e in events]


@bp.route("", methods=["GET"])
@fails_with(bp)
@bp.arguments(EventQuerySchema, location="query")
@bp.response(200, EventPageSchema)
def index(args):
    """Events after `after_id` in ascending id order; pass next_after_id to read on."""
    query = access.visible_contact_events_query(current_user)
    if "list_id" in args:
        query = query.where(Event.list_id == args["list_id"])
    if "trigger" in args:
        query = query.where(Event.trigger == args["trigger"])
    page = page_after(query, Event.id, args["after_id"], args["limit"])
    return {**page, "items": shown(page["items"])}


@bp.route("/<int:event_id>", methods=["GET"])
@fails_with(bp, 404)
@bp.response(200, EventWithDeliveriesSchema)
def show(event_id):
    """One event, with its deliveries that you may see (those of the rules you manage)."""
    query = access.visible_contact_events_query(current_user).where(Event.id == event_id)
    event = db.session.scalar(query) or abort(404)
    deliveries = db.session.scalars(access.visible_deliveries_query(current_user)
                                    .where(Delivery.event_id == event.id).order_by(Delivery.id))
    return {**shown([event])[0], "deliveries": deliveries.all()}
