"""The targets of the throughput benchmark and whether a run's figures meet them.

The figures of a run on SQLite decide every target but one; a run on PostgreSQL given the
figures of one on SQLite decides that one, PostgreSQL's (a) against SQLite's, and the others on
SQLite's figures."""

P99_SECONDS = 1.0


def highest_rate_under(steady, seconds=P99_SECONDS):
    """The highest steady rate (events/s) whose p99 stayed under `seconds`, or None."""
    rates = [s["requested_events_per_second"] for s in steady
             if s["p99"] is not None and s["p99"] < seconds]
    return max(rates, default=None)


def _at_rate(steady, rate):
    return next((s for s in steady if s["requested_events_per_second"] == rate), None)


def _p99_at(rate, limit):
    def figure(f):
        at = _at_rate(f["b"], rate)
        return at and at["p99"]
    return (f"steady {rate} events/s: p99 < {limit:g} s", figure,
            lambda value: value < limit, lambda value: f"{value:.3f} s")


def _worst_steady_cpu(f):
    values = [s["worker_cpu_ms_per_delivery"] for s in f["b"]
              if s["worker_cpu_ms_per_delivery"] is not None]
    return max(values, default=None)


# (what, the figure of a run's figures or None when not measured, met?, the figure as text)
TARGETS = [
    ("(a) ≥ 0.5 × the bare asyncio ceiling (d)", lambda f: f["ratio_a_d"],
     lambda value: value >= 0.5, lambda value: f"{value:.2f}"),
    *(_p99_at(rate, limit) for rate, limit in ((400, P99_SECONDS), (200, 0.25))),
    ("worker CPU ≤ 0.4 ms a delivery in bulk (a)",
     lambda f: f["a"]["worker_cpu_ms_per_delivery"], lambda value: value <= 0.4,
     lambda value: f"{value:.2f} ms"),
    ("worker CPU ≤ 1 ms a delivery at every steady rate",
     _worst_steady_cpu, lambda value: value <= 1.0, lambda value: f"{value:.2f} ms at worst"),
    ("(a) ≥ 20 × naive RQ (c)", lambda f: f["ratio_a_c"], lambda value: value >= 20,
     lambda value: f"{value:.1f}"),
    ("(a) ≥ 10 × the Celery peer (c2)", lambda f: f["ratio_a_c2"], lambda value: value >= 10,
     lambda value: f"{value:.1f}"),
]
POSTGRES_RATIO = 0.8


def verdicts(figures, sqlite_figures=None):
    """[{target, database, figure, value, met}] for every target: met is None when the run did
    not measure it."""
    base = sqlite_figures or figures
    rows = []
    for what, figure, met, shown in TARGETS:
        value = figure(base)
        rows.append({"target": what, "database": base["database"], "value": value,
                     "figure": shown(value) if value is not None else "not measured",
                     "met": met(value) if value is not None else None})
    ratio = None
    if sqlite_figures and figures["database"] == "postgresql":
        ratio = figures["a_deliveries_per_second"] / sqlite_figures["a_deliveries_per_second"]
    rows.insert(1, {"target": f"PostgreSQL's (a) ≥ {POSTGRES_RATIO:g} × SQLite's (a)",
                    "database": "postgresql / sqlite", "value": ratio,
                    "figure": f"{ratio:.2f}" if ratio is not None else
                    "not measured (a run with --postgres --sqlite-figures FILE)",
                    "met": ratio >= POSTGRES_RATIO if ratio is not None else None})
    return rows
