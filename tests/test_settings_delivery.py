"""Project Settings > Opt-Intel > Settings: the retry schedule and the allowed target networks,
validated, saved, and used by the executor."""
from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa

from optintel.contact_changes import Origin, add_contacts
from optintel.deliveries.executor import execute
from optintel.deliveries.dispatch import dispatch
from optintel.extensions import db
from optintel.models import Delivery, DeliveryStatus, ProjectSettings
from optintel.models.settings import DEFAULT_RETRY_SCHEDULE
from tests.conftest import free_port

URL = "/settings/opt-intel/settings"
FORM = {"default_phone_region": "US", "smtp_port": "587", "smtp_security": "starttls",
        "retry_schedule": "0, 5, 300", "allowed_target_cidrs": ""}


def _stored_settings():
    """The settings row as committed, not as this test's session remembers it."""
    db.session.rollback()
    return db.session.get(ProjectSettings, 1)


def test_the_page_shows_the_standard_webhooks_schedule_and_the_refusal(as_admin):
    page = as_admin.get(URL).get_data(as_text=True)
    assert "Retry Schedule" in page and "Allowed Target Networks" in page
    assert f'name="retry_schedule" type="text" value="{DEFAULT_RETRY_SCHEDULE}"' in page
    assert '<textarea id="allowed_target_cidrs" name="allowed_target_cidrs"' in page
    assert "refuse loopback, private, link-local and cloud metadata addresses" in page


def test_saving_normalises_and_stores_both(as_admin):
    response = as_admin.post_form(URL, {
        **FORM, "retry_schedule": " 0,5 ,  300 7200",
        "allowed_target_cidrs": "10.1.2.3/8\n\n 192.168.10.0/24 \n::1\n10.0.0.0/8"})
    assert response.status_code == 302
    settings = _stored_settings()
    assert settings.retry_schedule == "0, 5, 300, 7200"
    assert settings.retry_delays == [0, 5, 300, 7200]
    assert settings.allowed_target_cidrs == "10.0.0.0/8\n192.168.10.0/24\n::1/128"
    page = as_admin.get(URL).get_data(as_text=True)
    assert "Project settings saved." in page and 'value="0, 5, 300, 7200"' in page
    assert "10.0.0.0/8\n192.168.10.0/24\n::1/128</textarea>" in page


def test_an_empty_schedule_is_the_standard_webhooks_one(as_admin):
    as_admin.post_form(URL, {**FORM, "retry_schedule": "1, 2"})
    as_admin.post_form(URL, {**FORM, "retry_schedule": " "})
    assert _stored_settings().retry_schedule == DEFAULT_RETRY_SCHEDULE


def test_twenty_delays_of_two_days_are_the_most(as_admin):
    schedule = ", ".join(["172800"] * 20)
    assert as_admin.post_form(URL, {**FORM, "retry_schedule": schedule}).status_code == 302
    assert _stored_settings().retry_delays == [172800] * 20


@pytest.mark.parametrize("change, field, message", [
    ({"retry_schedule": ", ".join(["1"] * 21)}, "retry_schedule",
     "Give between 1 and 20 delays, in seconds."),
    ({"retry_schedule": "0, 5, five"}, "retry_schedule", "Not a whole number of seconds: five."),
    ({"retry_schedule": "0, -5, 1.5"}, "retry_schedule",
     "Not a whole number of seconds: -5, 1.5."),
    ({"retry_schedule": "0, 172801"}, "retry_schedule",
     "Each delay is at most 172,800 seconds (2 days)."),
    ({"allowed_target_cidrs": "10.0.0.0/8\n10.0.0.0/33\nintranet.example.com"},
     "allowed_target_cidrs",
     "Not a network such as 10.0.0.0/8 or fd00::/8: 10.0.0.0/33, intranet.example.com."),
    ({"allowed_target_cidrs": "300.1.2.3"}, "allowed_target_cidrs",
     "Not a network such as 10.0.0.0/8 or fd00::/8: 300.1.2.3."),
])
def test_invalid_values_show_beside_their_field_and_save_nothing(as_admin, field_errors, change,
                                                                 field, message):
    as_admin.post_form(URL, {**FORM, "allowed_target_cidrs": "10.0.0.0/8"})
    before = db.session.execute(sa.select(ProjectSettings.__table__)).one()
    response = as_admin.post_form(URL, {**FORM, "smtp_host": "smtp.example.com",
                                        "smtp_from": "alerts@example.com", **change})
    assert response.status_code == 200
    assert field_errors(response.get_data(as_text=True)) == {field: [message]}
    db.session.rollback()
    assert db.session.execute(sa.select(ProjectSettings.__table__)).one() == before


def test_both_fields_report_their_errors_at_once(as_admin, field_errors):
    response = as_admin.post_form(URL, {**FORM, "retry_schedule": "soon",
                                        "allowed_target_cidrs": "everywhere"})
    assert set(field_errors(response.get_data(as_text=True))) == {"retry_schedule",
                                                                  "allowed_target_cidrs"}
    assert _stored_settings() is None


@pytest.fixture
def refused_delivery(app, api, make_list):
    """A pending delivery of a Ping URL rule to a closed loopback port, in an app that refuses
    non-public targets as production does (unless the allowed networks say otherwise)."""
    rule = api.post("/tracking-rules", {
        "level": "project", "trigger": "contact_added", "action": "ping_url",
        "action_settings": {"method": "GET", "url": f"http://127.0.0.1:{free_port()}/hook",
                            "timeout": 2}})
    assert rule.status_code == 201, rule.json
    # Saved while allowed (a save would be refused now), then refused when sent.
    app.config["OPTINTEL_ALLOW_PRIVATE_TARGETS"] = False
    event_ids = add_contacts(make_list(), ["ann@example.com"], Origin("api")).event_ids
    [delivery_id] = dispatch(event_ids)
    return delivery_id


def _attempted(delivery_id):
    assert execute([delivery_id]) == 1
    db.session.rollback()
    return db.session.get(Delivery, delivery_id)


def test_loopback_is_refused_without_an_allowed_network(as_admin, refused_delivery):
    as_admin.post_form(URL, {**FORM, "allowed_target_cidrs": "10.0.0.0/8"})
    delivery = _attempted(refused_delivery)
    assert delivery.status == DeliveryStatus.FAILED  # refused for good: no retry
    assert "not a public address" in delivery.attempt_rows[0].error


def test_an_allowed_network_is_reached_on_the_saved_schedule(as_admin, refused_delivery):
    response = as_admin.post_form(URL, {**FORM, "retry_schedule": "0, 100",
                                        "allowed_target_cidrs": "127.0.0.0/8"})
    assert response.status_code == 302
    delivery = _attempted(refused_delivery)
    # The port is closed: the connection, not the policy, failed, and a retry is due in 100 s.
    assert "not a public address" not in delivery.attempt_rows[0].error
    assert delivery.status == DeliveryStatus.RETRYING
    wait = delivery.next_attempt_at - datetime.now(timezone.utc)
    assert timedelta(seconds=90) < wait <= timedelta(seconds=111)
