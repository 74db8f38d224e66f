from flask import render_template
from flask_login import current_user, login_required

from ..access import may_open
from ..health import health
from ..logs.presenting import chart_figure
from ..models.columns import utcnow
from ..tracking_log.filters import LogFilter
from . import bp, figures


@bp.route("/")
@login_required
def index():
    """The home page: the figures of what the user may see, each linking to the page behind."""
    now = utcnow()
    period = figures.Period.ending(now)
    chart_filter = LogFilter(date_from=period.yesterday, date_to=period.today)
    deliveries = figures.deliveries(current_user, period)
    return render_template(
        "dashboard/index.html", period=period, lists_open=may_open(current_user, "lists"),
        contacts=figures.contact_changes(current_user, period),
        deliveries=deliveries, troubled=figures.troubled_rules(current_user, now),
        latest=figures.latest_events(current_user), chart_filter=chart_filter,
        figure=chart_figure(deliveries.chart))


@bp.route("/healthz")
def healthz():
    report = health()
    return report, 200 if report["db"] == "ok" else 503
