"""Health of the parts the product needs: database, Redis, workers."""
import sqlalchemy as sa
from redis.exceptions import RedisError
from rq import Worker

from .extensions import db
from .queue import redis_connection


def health():
    """{"db": "ok"|"down", "redis": "ok"|"down", "workers": n}."""
    report = {"db": "ok", "redis": "ok", "workers": 0}
    try:
        db.session.execute(sa.text("SELECT 1"))
    except sa.exc.SQLAlchemyError:
        report["db"] = "down"
    try:
        conn = redis_connection()
        conn.ping()
        report["workers"] = Worker.count(connection=conn)
    except RedisError:
        report["redis"] = "down"
    return report
