"""A small run of bench/throughput.py (`make bench` runs it at full size): every phase runs —
the pool of 1 process and of 2, two steady rates, the naive RQ way, the Celery peer and the
ceiling clients — every delivery succeeds and is signed so that standardwebhooks verifies it,
the figures it prints are positive, each target of the issue has its verdict, and it leaves
none of its processes behind. On a suite run on PostgreSQL (TEST_DATABASE_URL) the bench runs
with --postgres, on a throwaway cluster of its own."""
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

from targets import verdicts  # noqa: E402

from tests.conftest import ON_POSTGRES  # noqa: E402

CONTACTS, SCALING_CONTACTS, NAIVE_SAMPLE, RULES, PROCESSES = 300, 60, 60, 3, 2
STEADY_SECONDS, STEADY_RATES = 1, (50, 100)
TARGETS = ["(a) ≥ 0.5 × the bare asyncio ceiling (d)", "PostgreSQL's (a) ≥ 0.8 × SQLite's (a)",
           "steady 400 events/s: p99 < 1 s", "steady 200 events/s: p99 < 0.25 s",
           "worker CPU ≤ 0.4 ms a delivery in bulk (a)",
           "worker CPU ≤ 1 ms a delivery at every steady rate", "(a) ≥ 20 × naive RQ (c)",
           "(a) ≥ 10 × the Celery peer (c2)"]


def run_bench(*args, timeout=150):
    """The bench's --json figures; on a timeout it gets SIGTERM, which stops its processes."""
    proc = subprocess.Popen([sys.executable, str(ROOT / "bench" / "throughput.py"), *args,
                             "--json"], cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=60)
        pytest.fail(f"The bench did not finish in {timeout} s:\n{err}")
    assert proc.returncode == 0, err
    return json.loads(out)


def group_alive(pgid):
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


@pytest.mark.bench
def test_a_small_benchmark_run_delivers_everything_and_prints_positive_figures(tmp_path):
    saved = tmp_path / "figures.json"
    figures = run_bench("--contacts", str(CONTACTS), "--scaling-contacts", str(SCALING_CONTACTS),
                        "--processes", str(PROCESSES), "--steady-seconds", str(STEADY_SECONDS),
                        "--steady-rates", ",".join(map(str, STEADY_RATES)), "--naive-sample",
                        str(NAIVE_SAMPLE), "--save", str(saved),
                        *(["--postgres"] if ON_POSTGRES else []))

    assert figures["database"] == ("postgresql" if ON_POSTGRES else "sqlite")
    assert figures["processes"] == PROCESSES
    a1, a, b, c, c2, d = (figures[k] for k in ("a1", "a", "b", "c", "c2", "d"))
    assert figures["all_succeeded"]
    assert a["deliveries"] == a["succeeded"] == a["attempts"] == CONTACTS * RULES
    assert a1["deliveries"] == a1["succeeded"] == a1["attempts"] == SCALING_CONTACTS * RULES
    assert [s["requested_events_per_second"] for s in b] == list(STEADY_RATES)
    for steady in b:
        assert steady["events"] == steady["requested_events_per_second"] * STEADY_SECONDS
        assert steady["succeeded"] == steady["deliveries"] == steady["events"] * RULES
        assert steady["p50"] <= steady["p99"] <= steady["max"]
        assert steady["worker_cpu_ms_per_delivery"] > 0
    assert c["deliveries"] == c["succeeded"] == c["attempts"] == NAIVE_SAMPLE
    assert c2["deliveries"] == NAIVE_SAMPLE
    assert d["posts"] == CONTACTS * RULES
    assert set(d["clients"]) == {"aiohttp", "bare asyncio"}
    assert d["per_second"] == max(client["per_second"] for client in d["clients"].values())
    pipeline_posts = a1["deliveries"] + a["deliveries"] + \
        sum(s["deliveries"] for s in b) + c["deliveries"]
    assert figures["sink"] == {"requests": pipeline_posts, "signed": pipeline_posts}
    assert a["signature"] == a1["signature"] == "verified"
    for name in ("a_deliveries_per_second", "c_naive_deliveries_per_second",
                 "c2_celery_deliveries_per_second", "d_ceiling_posts_per_second", "ratio_a_c",
                 "ratio_a_c2", "ratio_a_d", "ratio_a_urllib3", "scaling"):
        assert figures[name] > 0, name
    assert d["urllib3_threads"]["per_second"] > 0
    for phase in (a1, a, c, c2):
        assert phase["worker_cpu_ms_per_delivery"] > 0

    # Every target with its verdict; what two slow rates and one database cannot say is
    # "not measured", never met.
    rows = {row["target"]: row for row in figures["targets"]}
    assert list(rows) == TARGETS
    unmeasured = {"PostgreSQL's (a) ≥ 0.8 × SQLite's (a)", "steady 400 events/s: p99 < 1 s",
                  "steady 200 events/s: p99 < 0.25 s"}
    for target, row in rows.items():
        assert (row["met"] is None) == (target in unmeasured), row
    assert json.loads(saved.read_text()) == figures

    # redis-server, the sink, gunicorn (with its workers), the pool of 1 process, the pool of
    # (a) and (b), the pool of (c), the Celery peer: all gone.
    assert len(figures["process_groups"]) == 7
    assert not [pgid for pgid in figures["process_groups"] if group_alive(pgid)]


def figures_of(database, a_per_second):
    """The figures verdicts() reads, of a run that meets every target on its own."""
    steady = [{"requested_events_per_second": rate, "p99": 0.1, "worker_cpu_ms_per_delivery": 0.5}
              for rate in (100, 200, 400, 800)]
    return {"database": database, "a_deliveries_per_second": a_per_second, "ratio_a_d": 0.6,
            "a": {"worker_cpu_ms_per_delivery": 0.3}, "b": steady, "ratio_a_c": 25.0,
            "ratio_a_c2": 12.0}


def test_postgresql_is_judged_against_the_sqlite_run_and_the_other_targets_on_sqlite():
    sqlite = figures_of("sqlite", 4000.0)
    postgres = dict(figures_of("postgresql", 3000.0), ratio_a_d=0.1)

    rows = {row["target"]: row for row in verdicts(postgres, sqlite)}
    ratio = rows["PostgreSQL's (a) ≥ 0.8 × SQLite's (a)"]
    assert (ratio["value"], ratio["met"]) == (0.75, False)
    # The SQLite run's (a)/(d), not PostgreSQL's.
    assert rows["(a) ≥ 0.5 × the bare asyncio ceiling (d)"]["met"] is True
    assert all(row["database"] == "sqlite" for target, row in rows.items()
               if not target.startswith("PostgreSQL"))

    postgres["a_deliveries_per_second"] = 3200.0
    assert next(row for row in verdicts(postgres, sqlite)
                if row["target"].startswith("PostgreSQL"))["met"] is True
    alone = {row["target"]: row for row in verdicts(postgres)}
    assert alone["PostgreSQL's (a) ≥ 0.8 × SQLite's (a)"]["met"] is None
    assert alone["(a) ≥ 0.5 × the bare asyncio ceiling (d)"]["met"] is False
