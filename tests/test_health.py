"""GET /healthz: the database, Redis and the number of RQ workers, for anyone (no login)."""
from conftest import wait_for


def test_health_counts_running_workers(web, workers):
    workers.start(1)
    wait_for(lambda: web.get("/healthz").json["workers"] == 1, message="the worker to register")
    response = web.get("/healthz")
    assert response.status_code == 200
    assert response.json == {"db": "ok", "redis": "ok", "workers": 1}


def test_health_without_workers(web):
    response = web.get("/healthz")
    assert (response.status_code, response.json) == (200, {"db": "ok", "redis": "ok", "workers": 0})


def test_health_with_redis_down_still_answers(app_without_redis, web):
    response = web.get("/healthz")
    assert response.status_code == 200
    assert response.json == {"db": "ok", "redis": "down", "workers": 0}
