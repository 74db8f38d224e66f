"""System Management > Logs > Tracking Log: All Events and Test Runs, their Log dialogs, retry,
retry all, and the record of who confirmed access to a log."""
from urllib.parse import urlencode

import sqlalchemy as sa
from flask import abort, render_template, request, url_for
from flask_login import current_user
from sqlalchemy.orm import selectinload

from ..access import lists_in_clear, visible_deliveries_query, visible_test_runs_query
from ..deliveries import retry_by_hand
from ..extensions import db
from ..guards import admin_only, guard_blueprint
from ..models import Delivery, LogAccess, TestRun
from ..pagination import keyset_page
from ..rendering import render
from ..tracking_log.chart import chart
from ..tracking_log.masking import seen_delivery
from ..tracking_log.filters import LogFilter, apply
from . import bp
from .forms import FilterForm
from .presenting import chart_figure, delivery_rows, test_run_rows

guard_blueprint(bp)


def _visible_delivery(delivery_id):
    """The delivery if the user may see it; 404 otherwise, so that existence does not leak."""
    query = visible_deliveries_query(current_user).where(Delivery.id == delivery_id)
    return db.session.scalar(query.options(selectinload(Delivery.event))) or abort(404)


def _visible_test_run(run_id):
    query = visible_test_runs_query(current_user).where(TestRun.id == run_id)
    return db.session.scalar(query) or abort(404)


def _delivery_row(delivery, message=""):
    [row] = delivery_rows([delivery], message)
    return render_template("logs/_delivery_row.html", row=row)


@bp.route("/")
def index():
    """All Events: the filtered deliveries the user may see, newest first, and their chart."""
    log_filter = LogFilter.from_args(request.args)
    query = apply(visible_deliveries_query(current_user), Delivery.__table__, log_filter)
    page = keyset_page(db.session, query.options(selectinload(Delivery.event)), Delivery.id,
                       request.args)
    html = render("logs/index.html", block="results_fragment", page=page,
                  rows=delivery_rows(page.items), log_filter=log_filter,
                  form=FilterForm(request.args, current_user, log_filter),
                  figure=chart_figure(chart(current_user, log_filter)))
    # The address bar shows the filter without the empty fields of the form; the arguments go
    # into the query string as they came, never as url_for's options (_external, _method...).
    shown = urlencode([(k, v) for k, v in request.args.items(multi=True) if v])
    return html, {"HX-Push-Url": url_for(".index") + (f"?{shown}" if shown else "")}


@bp.route("/deliveries/<int:delivery_id>")
def delivery_row(delivery_id):
    """One row of All Events; rows in flight poll it until they settle."""
    return _delivery_row(_visible_delivery(delivery_id))


@bp.route("/deliveries/<int:delivery_id>/retry", methods=["POST"])
def retry_delivery(delivery_id):
    """Attempt a failed or succeeded delivery once more; the row comes back pending."""
    delivery = _visible_delivery(delivery_id)
    try:
        retry_by_hand.retry(delivery, current_user)
    except retry_by_hand.NotRetryable as exc:
        return _delivery_row(delivery, str(exc))
    return _delivery_row(delivery)


@bp.route("/deliveries/<int:delivery_id>/log", methods=["GET", "POST"])
def delivery_log(delivery_id):
    """The Log dialog: a confirmation first; the POST of 'I confirm to get access' records it
    and shows every attempt."""
    delivery = _visible_delivery(delivery_id)
    if request.method == "GET":
        return render_template("logs/_confirm_access.html", subject=f"delivery #{delivery.id}",
                               url=url_for(".delivery_log", delivery_id=delivery.id))
    LogAccess.record(current_user, delivery_id=delivery.id)
    in_clear = delivery.list_id in lists_in_clear(current_user, {delivery.list_id})
    contact, attempts = seen_delivery(delivery, in_clear)
    return render_template("logs/_delivery_log.html", delivery=delivery, contact=contact,
                           attempts=attempts)


@bp.route("/retry-all", methods=["GET", "POST"])
def retry_all_matching():
    """Retry all: how many rows the filter would retry, then (POST) a background job."""
    log_filter = LogFilter.from_args(request.args)
    counts, started, error = None, False, ""
    if not log_filter.errors:
        counts = retry_by_hand.retryable_counts(current_user, log_filter)
    if counts and request.method == "POST":
        try:
            started = retry_by_hand.start_retry_all(current_user, log_filter) is not None
        except retry_by_hand.NotStarted as exc:
            error = str(exc)
    html = render_template("logs/_retry_all.html", log_filter=log_filter, counts=counts,
                           started=started, error=error)
    return html, {"HX-Trigger": "logChanged"} if started else {}


@bp.route("/test-runs")
def test_runs():
    """Test Runs: the runs of the rules the user manages, newest first."""
    query = visible_test_runs_query(current_user).options(selectinload(TestRun.user))
    page = keyset_page(db.session, query, TestRun.id, request.args)
    return render("logs/test_runs.html", block="runs", page=page, rows=test_run_rows(page.items))


@bp.route("/test-runs/<int:run_id>")
def test_run_row(run_id):
    """One row of Test Runs; pending rows poll it until the run is back."""
    [row] = test_run_rows([_visible_test_run(run_id)])
    return render_template("logs/_test_run_row.html", row=row)


@bp.route("/test-runs/<int:run_id>/log", methods=["GET", "POST"])
def test_run_log(run_id):
    """The Log dialog of a test run, behind the same recorded confirmation."""
    run = _visible_test_run(run_id)
    if request.method == "GET":
        return render_template("logs/_confirm_access.html", subject=f"test run #{run.id}",
                               url=url_for(".test_run_log", run_id=run.id))
    LogAccess.record(current_user, test_run_id=run.id)
    return render_template("logs/_test_run_log.html", run=run)


@bp.route("/access")
@admin_only
def access():
    """Who confirmed access to which log, and when (Global Admins only)."""
    query = sa.select(LogAccess).options(selectinload(LogAccess.user))
    return render_template("logs/access.html",
                           page=keyset_page(db.session, query, LogAccess.id, request.args))


