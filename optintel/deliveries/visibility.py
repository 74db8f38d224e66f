"""Who sees which deliveries: Global Admins all of them, everyone else those of the levels and
scopes whose rules they manage (also after a rule is deleted)."""
import sqlalchemy as sa

from ..models import Delivery
from ..rules.editing import managed_scopes


def visible_deliveries_query(user):
    """SELECT of the deliveries the user may see."""
    return sa.select(Delivery).where(managed_scopes(user, Delivery.level, Delivery.scope_id))
