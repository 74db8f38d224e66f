"""A small run of bench/throughput.py (`make bench` runs it at full size): it completes, every
delivery succeeds and is signed so that standardwebhooks verifies it, the figures it prints are
positive, and it leaves none of its processes behind."""
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CONTACTS, STEADY_SECONDS, NAIVE_SAMPLE, RULES = 300, 2, 60, 3


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
def test_a_small_benchmark_run_delivers_everything_and_prints_positive_figures():
    figures = run_bench("--contacts", str(CONTACTS), "--workers", "1", "--steady-seconds",
                        str(STEADY_SECONDS), "--naive-sample", str(NAIVE_SAMPLE))

    a, b, c, d = figures["a"], figures["b"], figures["c"], figures["d"]
    assert figures["all_succeeded"]
    assert a["deliveries"] == a["succeeded"] == a["attempts"] == CONTACTS * RULES
    assert b["events"] == STEADY_SECONDS * 200 and b["succeeded"] == b["events"] * RULES
    assert c["deliveries"] == c["succeeded"] == c["attempts"] == NAIVE_SAMPLE
    assert d["posts"] == CONTACTS * RULES
    pipeline_posts = a["deliveries"] + b["deliveries"] + c["deliveries"]
    assert figures["sink"] == {"requests": pipeline_posts, "signed": pipeline_posts}
    assert a["signature"] == "verified"
    for name in ("a_deliveries_per_second", "b_latency_p50_seconds", "b_latency_p99_seconds",
                 "c_naive_deliveries_per_second", "d_ceiling_posts_per_second", "ratio_a_c",
                 "ratio_a_d"):
        assert figures[name] > 0, name
    assert b["p50"] <= b["p99"] <= b["max"]
    # redis-server, the sink, gunicorn (with its workers), the worker of (a) and (b), the one
    # of (c): all gone.
    assert len(figures["process_groups"]) == 5
    assert not [pgid for pgid in figures["process_groups"] if group_alive(pgid)]
