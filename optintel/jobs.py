"""RQ entry points. They take ids, run in one app per worker process, and finish their bookkeeping."""
from functools import wraps

from . import imports, rule_test_runs
from .deliveries import retry_by_hand
from .deliveries.dispatch import dispatch
from .deliveries.executor import execute

_app = None


def worker_app():
    """The Flask app of this worker process, created on first use."""
    global _app
    if _app is None:
        from . import create_app
        _app = create_app()
    return _app


def use_app(app):
    """Make `app` the app of this worker process (the one `flask worker` already built)."""
    global _app
    _app = app


def in_app_context(func):
    @wraps(func)
    def wrapper(*args, **kwargs):
        with worker_app().app_context():
            return func(*args, **kwargs)
    return wrapper


@in_app_context
def dispatch_events(event_ids):
    """Create the deliveries of a batch of committed events, and attempt them here when they fit
    one batch (else hand them out)."""
    return len(dispatch(event_ids, execute_here=True))


@in_app_context
def execute_deliveries(delivery_ids):
    """Attempt a batch of deliveries: these, and other due ones up to the batch size."""
    return execute(delivery_ids, fill_batch=True)


@in_app_context
def run_test(test_run_id):
    """Run one Test Run."""
    run = rule_test_runs.execute(test_run_id)
    return run and run.status.value


@in_app_context
def retry_matching(filter_args, user_id, up_to_id=None, include_succeeded=True):
    """Retry the failed (and, if included, succeeded) deliveries that a user's Tracking Log
    filter shows."""
    return retry_by_hand.retry_matching(filter_args, user_id, up_to_id, include_succeeded)


@in_app_context
def run_import(import_id):
    """Work through an import's file for a slice of time; the rest goes to a new job."""
    return imports.running.run(import_id)
