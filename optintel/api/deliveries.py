"""Deliveries: what each tracking rule did for each event, with every attempt, and retrying one
by hand."""
from flask_login import current_user
from flask_smorest import abort

from ..access import lists_in_clear, visible_deliveries_query
from ..deliveries.retry_by_hand import NotRetryable, retry
from ..extensions import db
from ..models import Delivery, LogAccess
from ..tracking_log.masking import seen_delivery
from . import blueprint, fails_with
from .crud import page_after
from .schemas import DeliveryDetailSchema, DeliveryPageSchema, DeliveryQuerySchema, DeliverySchema

bp = blueprint("/deliveries", "What tracking rules did for each event: one delivery per rule and "
               "event, with its attempts. Global Admins see all of them; Campaign Managers and "
               "List Owners those of the rules they manage.")


DETAIL_FIELDS = tuple(name for name in DeliverySchema().fields if name != "attempts")


def _detail(delivery):
    """The delivery with its attempts, the plain contact masked in them unless the caller may
    see it in clear."""
    in_clear = delivery.list_id in lists_in_clear(current_user, {delivery.list_id})
    _, attempts = seen_delivery(delivery, in_clear)
    return {**{name: getattr(delivery, name) for name in DETAIL_FIELDS}, "attempt_rows": attempts}


def _visible_delivery(delivery_id):
    query = visible_deliveries_query(current_user).where(Delivery.id == delivery_id)
    return db.session.scalar(query) or abort(404, message="No such delivery.")


@bp.route("", methods=["GET"])
@fails_with(bp, 422)
@bp.arguments(DeliveryQuerySchema, location="query")
@bp.response(200, DeliveryPageSchema)
def index(args):
    """Deliveries after `after_id` in ascending id order, filtered by event, rule and status;
    pass next_after_id to read on."""
    after_id, limit = args.pop("after_id"), args.pop("limit")
    query = visible_deliveries_query(current_user)
    for name, value in args.items():
        query = query.where(getattr(Delivery, name) == value)
    return page_after(query, Delivery.id, after_id, limit)


@bp.route("/<int:delivery_id>", methods=["GET"])
@fails_with(bp, 404)
@bp.response(200, DeliveryDetailSchema)
def show(delivery_id):
    """One delivery with its attempts: the request sent (secrets masked) and the answer. The
    attempts may hold the plain contact, so each read is recorded as a log access, as the
    Tracking Log's confirmation is."""
    delivery = _visible_delivery(delivery_id)
    LogAccess.record(current_user, delivery_id=delivery.id)
    return _detail(delivery)


@bp.route("/<int:delivery_id>/retry", methods=["POST"])
@fails_with(bp, 404, 409)
@bp.response(202, DeliveryDetailSchema)
def retry_delivery(delivery_id):
    """Attempt a failed or succeeded delivery once more (409 while it is pending or retrying,
    or when it was skipped); the workers run it shortly."""
    delivery = _visible_delivery(delivery_id)
    try:
        return _detail(retry(delivery, current_user))
    except NotRetryable as exc:
        abort(409, message=str(exc))
