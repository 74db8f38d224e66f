"""RQ entry points. They take ids, run in one app per worker process, and finish their bookkeeping."""
from functools import wraps

_app = None


def worker_app():
    """The Flask app of this worker process, created on first use."""
    global _app
    if _app is None:
        from . import create_app
        _app = create_app()
    return _app


def in_app_context(func):
    @wraps(func)
    def wrapper(*args, **kwargs):
        with worker_app().app_context():
            return func(*args, **kwargs)
    return wrapper


@in_app_context
def dispatch_events(event_ids):
    """Dispatch a batch of committed events."""
    from .events.dispatch import dispatch
    return dispatch(event_ids)


def use_app(app):
    """Make `app` the app of this worker process (the one `flask worker` already built)."""
    global _app
    _app = app
