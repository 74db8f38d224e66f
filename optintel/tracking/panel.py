"""What the rules table of a Tracking tab shows, for the tab pages of every level."""
import sqlalchemy as sa
from flask_login import current_user

from ..access import may_manage_scope_of
from ..extensions import db
from ..models import TrackingRule
from ..rules.presenting import held_counts, with_adjacent


def panel_context(level, scope, adjacent_to=None):
    """What templates/tracking/_panel.html needs: the level's rules with their adjacent rules,
    and the held deliveries of the paused ones."""
    scope_id = scope.id if scope else None
    rules = db.session.scalars(sa.select(TrackingRule).where(
        TrackingRule.level == level, TrackingRule.scope_id.is_(None) if scope_id is None
        else TrackingRule.scope_id == scope_id).order_by(TrackingRule.id)).all()
    rows = with_adjacent(rules)
    hidden = 0
    if adjacent_to is not None:
        wanted = next((ids for rule, ids in rows if rule.id == adjacent_to), [])
        shown = db.session.scalars(sa.select(TrackingRule).where(TrackingRule.id.in_(wanted))
                                   .order_by(TrackingRule.id)).all()
        shown = [r for r in shown if may_manage_scope_of(current_user, r)]
        hidden = len(wanted) - len(shown)
        rows = with_adjacent(shown)
    return {"level": level, "scope": scope, "scope_id": scope_id or 0, "rows": rows,
            "adjacent_to": adjacent_to, "hidden_adjacent": hidden,
            "held": held_counts([rule for rule, _ in rows])}
