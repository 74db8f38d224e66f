"""A small run of bench/imports.py (`make bench-import` runs it at full size): it imports, downloads
and deletes every line, its figures are positive, and it leaves none of its processes behind."""
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LINES = 3000


def test_a_small_import_benchmark_run_prints_positive_figures():
    proc = subprocess.Popen([sys.executable, str(ROOT / "bench" / "imports.py"), "--lines",
                             str(LINES), "--workers", "1", "--json"], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        out, err = proc.communicate(timeout=180)
    except subprocess.TimeoutExpired:
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=60)
        pytest.fail(f"The bench did not finish in 180 s:\n{err}")
    assert proc.returncode == 0, err
    figures = json.loads(out)
    assert figures["import"]["changed"] == figures["import"]["events"] == LINES
    assert figures["delete"]["changed"] == figures["delete"]["events"] == LINES
    assert figures["download_md5"]["contacts"] == figures["download_csv"]["contacts"] == LINES
    for phase in ("import", "delete", "download_md5", "download_csv"):
        assert figures[phase]["contacts_per_second"] > 0, phase
    assert all(mb > 0 for mb in figures["worker_peak_mb"]) and figures["web_peak_mb"] > 0
    for pgid in figures["process_groups"]:
        with pytest.raises(ProcessLookupError):
            os.killpg(pgid, 0)
