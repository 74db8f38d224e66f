"""The throughput benchmark's figures, printed for people."""
import os

DATABASES = {"sqlite": "SQLite", "postgresql": "PostgreSQL", "postgresql / sqlite":
             "PostgreSQL / SQLite"}


def _cpu(figures):
    """'workers 0.41 ms (total 1.20: bench 0.10, web 0.50 …)' of a phase, per delivery."""
    cpu = figures.get("cpu_ms_each")
    if not cpu:
        return "CPU not measured (no /proc)"
    parts = ", ".join(f"{kind} {ms:.2f}" for kind, ms in cpu.items()
                      if kind != "total" and ms >= 0.005)
    worker = figures.get("worker_cpu_ms_per_delivery")
    head = f"worker CPU {worker:.2f} ms a delivery; " if worker is not None else ""
    return f"{head}all processes {cpu['total']:.2f} ms ({parts})"


def _bulk(label, a):
    print(f"{label} {a['succeeded']:,} deliveries in {a['seconds']:.1f} s = "
          f"{a['per_second']:,.0f} deliveries/s")
    print(f"      the API adds took {a['api_seconds']:.1f} s, the last event was dispatched at "
          f"{a['dispatched_seconds']:.1f} s; attempts {a['attempts']:,}; sink signature "
          f"check: {a['signature']}")
    print(f"      {_cpu(a)}")


def _steady(f):
    print("(b) steady rates: event's occurred_at (its API transaction) to its delivery recorded "
          "succeeded (after the POST was answered)")
    for b in f["b"]:
        print(f"      {b['requested_events_per_second']:>5} events/s (achieved "
              f"{b['achieved_events_per_second']:.0f}), {b['deliveries']:,} deliveries: p50 "
              f"{b['p50']:.3f} s, p99 {b['p99']:.3f} s, max {b['max']:.3f} s; to dispatch p50 "
              f"{b['dispatch_p50']:.3f} s, p99 {b['dispatch_p99']:.3f} s")
        print(f"            {_cpu(b)}")
    best = f["b_highest_rate_p99_under_1s"]
    print(f"      highest rate with p99 under 1 s: "
          f"{f'{best} events/s' if best else 'none of those tried'}")


def _peers(f):
    c, c2 = f["c"], f["c2"]
    print(f"(c) naive RQ:    {c['succeeded']:,} deliveries (a sample) in {c['seconds']:.1f} s = "
          f"{c['per_second']:,.0f} deliveries/s")
    print("      the same API, workers, rules and sink with OPTINTEL_DELIVERY_BATCH=1: one RQ job "
          "per delivery, each claiming, rendering, signing, POSTing and recording it")
    print(f"      {_cpu(c)}")
    print(f"(c2) Celery:     {c2['deliveries']:,} tasks in {c2['seconds']:.1f} s = "
          f"{c2['per_second']:,.0f} deliveries/s")
    print(f"      one Celery task per delivery (Redis broker, prefork pool of {f['processes']}), "
          "rendering, signing and POSTing it with a requests Session; no database")
    worker = c2["worker_cpu_ms_per_delivery"]
    print(f"      Celery worker CPU {worker:.2f} ms a delivery" if worker is not None else
          "      CPU not measured")


def _ceiling(f):
    d, threads = f["d"], f["d"]["urllib3_threads"]
    others = ", ".join(f"{name} {client['per_second']:,.0f}/s"
                       for name, client in d["clients"].items())
    print(f"(d) raw ceiling: {d['posts']:,} signed POSTs in {d['seconds']:.1f} s = "
          f"{d['per_second']:,.0f} POSTs/s, from {d['client']}, the fastest plain client here "
          f"({others}; 32 keep-alive connections)")
    probes = ", ".join(f"{n}: {rate:,.0f}/s" for n, rate in threads["probe_per_second"].items())
    print(f"      second ceiling: urllib3 from {threads['threads']} thread(s), the fastest count "
          f"in a probe ({probes}): {threads['per_second']:,.0f} POSTs/s; (a)/that = "
          f"{f['ratio_a_urllib3']:.2f}")


def _targets(f):
    judged_on = f["targets_judged_on"]
    print("Targets, on this run's figures:" if judged_on == "this run" else
          f"Targets, on the figures of the SQLite run saved in {judged_on}, and "
          "PostgreSQL's (a) of this run:")
    for row in f["targets"]:
        verdict = {True: "met", False: "NOT met", None: "not measured"}[row["met"]]
        figure = "" if row["met"] is None and row["value"] is None else row["figure"]
        print(f"  {row['target']:<52} {DATABASES[row['database']]:<20} {figure:<18} "
              f"{verdict}")


def print_report(f):
    """The figures of one run, its ratios and targets."""
    print(f"Opt-Intel throughput on {DATABASES[f['database']]}: {f['contacts']:,} contacts × "
          f"{f['rules']} signed Ping URL Project rules, a pool of {f['processes']} worker "
          f"process(es) on {f['cores']} core(s), API batches of {f['batch']:,}, delivery jobs "
          f"of {f['delivery_batch']}, {f['concurrency']} requests in flight a process")
    print("(a) end to end, from the first API add to the last delivery recorded succeeded "
          "(database):")
    _bulk(f"      {f['processes']} process(es):", f["a"])
    _bulk("      1 process (a sample):", f["a1"])
    print(f"      scaling from 1 process to {f['processes']}: × {f['scaling']:.2f}")
    _steady(f)
    _peers(f)
    _ceiling(f)
    print(f"(a)/(d) = {f['ratio_a_d']:.2f}   (a)/(c) = {f['ratio_a_c']:.1f}   (a)/(c2) = "
          f"{f['ratio_a_c2']:.1f}")
    _targets(f)
    phases = ("a1", "a", "c")
    problems = {k: f[k]["not_succeeded"] for k in phases if f[k]["not_succeeded"]}
    problems.update({f"b {b['requested_events_per_second']}": b["not_succeeded"]
                     for b in f["b"] if b["not_succeeded"]})
    print(f"Every delivery succeeded: {'yes' if f['all_succeeded'] else f'NO {problems}'}; "
          f"the sink received {f['sink']['requests']:,} pipeline requests, "
          f"{f['sink']['signed']:,} signed")
    minutes, seconds = divmod(round(f["run_seconds"]), 60)
    print(f"Run time {minutes}:{seconds:02d}. Machine load average (1 min): "
          f"{f['load_average']['before']:.1f} before the run, {f['load_average']['after']:.1f} "
          f"after it ({os.cpu_count()} CPUs)")
