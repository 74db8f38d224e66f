"""The Redis connection and RQ queues. Redis only carries work; the database holds the truth."""
from flask import current_app
from redis import Redis
from rq import Queue

EVENTS_QUEUE = "events"
DELIVERIES_QUEUE = "deliveries"
IMPORTS_QUEUE = "imports"
# A worker takes an import's slice first (a file of a million lines is then in the list within
# a minute, its events dispatched by the other workers meanwhile and by this one after), then
# events: dispatching is quick and creates the deliveries' work.
QUEUES = (IMPORTS_QUEUE, EVENTS_QUEUE, DELIVERIES_QUEUE)


def redis_connection(app=None):
    """The app's Redis client, with short timeouts so a Redis outage never hangs a request."""
    app = app or current_app
    conn = app.extensions.get("optintel_redis")
    if conn is None:
        conn = Redis.from_url(app.config["REDIS_URL"], socket_connect_timeout=2,
                              socket_timeout=10, health_check_interval=30)
        app.extensions["optintel_redis"] = conn
    return conn


def queue(name, app=None):
    """The RQ queue of that name on the app's Redis."""
    return Queue(name, connection=redis_connection(app))
