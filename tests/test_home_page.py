"""The home page's figures, of what each role may see: contacts added and deleted (today, 7 days,
per channel) from the daily event counts, deliveries by status with the failure rate, the rules
that are failing, the latest events (masked) and the chart; each figure links to the page behind
it. The event counts move in the transaction that records the events."""
import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from optintel.contact_changes import Origin, add_contacts, remove_contacts
from optintel.deliveries.executor import execute
from optintel.extensions import db
from optintel.logs.presenting import MIN_SEGMENT, TOP, chart_figure
from optintel.models import Channel, DeliveryStatus, Event, EventCount, Role, Trigger
from optintel.models.columns import utcnow
from optintel.tracking_log.chart import Chart
from tests.test_log_pages import added, deliveries, ping_rule, schedule, text

EMAIL, PHONE = "ann.lee@example.com", "+12025550147"


def figure(page, channel, trigger, period):
    """The number of a contacts figure of the page."""
    found = re.search(rf'data-channel="{channel}".*?data-trigger="{trigger}" '
                      rf'data-period="{period}">.*?<dd>(?:<a [^>]*>)?([\d,]+)<', page, re.S)
    return int(found.group(1).replace(",", ""))


def status_count(page, status):
    found = re.search(rf'<li data-status="{status}"><a href="([^"]+)">.*?<strong>([\d,]+)'
                      r'</strong>', page, re.S)
    return found.group(1).replace("&amp;", "&"), int(found.group(2).replace(",", ""))


def counted():
    """{(list, campaign, trigger): count} of the hourly event counts, and the same of events."""
    db.session.rollback()
    table = EventCount.__table__
    counts = {(list_id, campaign_id, Trigger(trigger)): n for list_id, campaign_id, trigger, n in
              db.session.execute(sa.select(table.c.list_id, table.c.campaign_id, table.c.trigger,
                                           sa.func.sum(table.c.count))
                                 .group_by(table.c.list_id, table.c.campaign_id, table.c.trigger))}
    events = {(list_id, campaign_id or 0, Trigger(trigger)): n
              for list_id, campaign_id, trigger, n in db.session.execute(
                  sa.select(Event.list_id, Event.campaign_id, Event.trigger, sa.func.count())
                  .group_by(Event.list_id, Event.campaign_id, Event.trigger))}
    return counts, events


def test_the_event_counts_move_with_the_events(make_list, make_campaign):
    emails, phones = make_list(), make_list(Channel.PHONE)
    campaign = make_campaign(lists=[emails])
    add_contacts(emails, [EMAIL, "bob@example.org", "bad"], Origin("api"))
    add_contacts(emails, [EMAIL, "cy@example.net"], Origin("api", campaign_id=campaign.id))
    add_contacts(phones, [PHONE], Origin("manual"))
    remove_contacts(emails, [EMAIL, "nobody@example.com"], Origin("manual"))
    db.session.commit()
    counts, events = counted()
    assert counts == events == {(emails.id, 0, Trigger.CONTACT_ADDED): 2,
                                (emails.id, campaign.id, Trigger.CONTACT_ADDED): 1,
                                (phones.id, 0, Trigger.CONTACT_ADDED): 1,
                                (emails.id, 0, Trigger.CONTACT_DELETED): 1}
    [day] = set(db.session.scalars(sa.select(EventCount.day)))
    assert day == utcnow().replace(hour=0, minute=0, second=0, microsecond=0)


@pytest.fixture
def home(make_user, make_list, make_campaign, make_rule):
    """An owner's email list (two added, one deleted, its rule failing), a manager's SMS
    campaign on another owner's phone list (one added), and an older email added 8 days ago."""
    schedule("0")
    owner, manager = make_user(Role.LIST_OWNER), make_user(Role.CAMPAIGN_MANAGER)
    owned = make_list(owner=owner, name="Unsubscribes")
    phones = make_list(Channel.PHONE, name="SMS STOP replies")
    campaign = make_campaign(Channel.PHONE, manager=manager, lists=[phones])
    failing = ping_rule(make_rule, "http://127.0.0.1:9/hook", "email_list", owned.id)
    ping_rule(make_rule, "http://127.0.0.1:9/hook", "phone_list", phones.id)
    added(owned, EMAIL, "bob@example.org")
    remove_contacts(owned, ["bob@example.org"], Origin("manual"))
    added(phones, PHONE, campaign_id=campaign.id)
    db.session.commit()
    assert execute([d.id for d in deliveries()]) == 3  # all fail: nothing listens on port 9
    db.session.add(EventCount(day=utcnow().replace(hour=0, minute=0, second=0, microsecond=0)
                              - timedelta(days=8), list_id=owned.id, campaign_id=0,
                              channel=Channel.EMAIL, trigger=Trigger.CONTACT_ADDED, count=40))
    db.session.commit()
    return {"owner": owner, "manager": manager, "owned": owned, "phones": phones,
            "campaign": campaign, "failing": failing}


def test_the_admin_sees_every_figure_each_linking_to_its_page(as_admin, home):
    page = text(as_admin.get("/"))
    assert figure(page, "email", "contact_added", "today") == 2
    assert figure(page, "email", "contact_added", "week") == 2  # not the 40 of 8 days ago
    assert figure(page, "email", "contact_deleted", "today") == 1
    assert figure(page, "phone", "contact_added", "week") == 1
    assert figure(page, "phone", "contact_deleted", "week") == 0
    assert 'href="/lists/email/">2</a>' in page
    week_from = (utcnow().date() - timedelta(days=6)).isoformat()
    assert status_count(page, "failed") == (f"/logs/?status=failed&date_from={week_from}", 3)
    assert status_count(page, "succeeded")[1] == 0
    assert re.search(r'<a class="failure-rate has-failures" href="[^"]*status=failed[^"]*">'
                     r'100.0 % failed</a>', page)
    rule = home["failing"]
    troubled = re.search(r'<section class="card" id="troubled-rules".*?</section>', page,
                         re.S).group(0)
    tab = f'/lists/email/{home["owned"].id}/tracking#rule-{rule}'
    assert f'href="{tab}">Rule #{rule}</a>' in troubled
    assert "2 failed in the last 24 hours" in troubled and troubled.count("<tr data-rule-id") == 2
    assert f'href="/logs/?rule_id={rule}&amp;status=failed"' in troubled
    latest = re.search(r'id="latest-events".*?</section>', page, re.S).group(0)
    assert latest.count('<tr id="event-') == 4
    assert EMAIL not in latest and PHONE not in latest  # masked, as in the log
    assert "Deliveries per hour" in page
    assert 'class="segment" data-status="failed" data-count="3"' in page


def test_a_list_owner_sees_the_figures_of_their_lists_only(web, home):
    page = text(web.login(home["owner"]).get("/"))
    assert figure(page, "email", "contact_added", "today") == 2
    assert figure(page, "phone", "contact_added", "today") == 0
    assert status_count(page, "failed")[1] == 2
    troubled = re.search(r'id="troubled-rules".*?</section>', page, re.S).group(0)
    assert f"#{home['failing']}</a>" in troubled and troubled.count("<tr data-rule-id") == 1
    latest = re.search(r'id="latest-events".*?</section>', page, re.S).group(0)
    assert latest.count('<tr id="event-') == 3


def test_a_campaign_manager_sees_the_figures_of_their_campaigns_only(web, home):
    page = text(web.login(home["manager"]).get("/"))
    assert figure(page, "email", "contact_added", "today") == 0
    assert figure(page, "phone", "contact_added", "today") == 1
    assert status_count(page, "failed")[1] == 0  # no rule of the campaign's level
    assert "No rule is failing or paused." in page
    assert 'href="/lists/' not in page  # a manager may not open the lists pages
    latest = re.search(r'id="latest-events".*?</section>', page, re.S).group(0)
    assert latest.count('<tr id="event-') == 1


def test_an_empty_installation_shows_zeros_and_no_rate(as_admin):
    page = text(as_admin.get("/"))
    assert figure(page, "email", "contact_added", "today") == 0
    assert "% failed" not in page
    assert "No contact has been added or deleted yet." in page


def test_a_few_failures_stay_visible_beside_many_successes():
    start = utcnow().replace(minute=0, second=0, microsecond=0)
    chart = Chart(buckets=[(start, {DeliveryStatus.SUCCEEDED: 1215, DeliveryStatus.FAILED: 3})],
                  peak=1218, hourly=True)
    drawn = chart_figure(chart)
    [bar] = drawn["bars"]
    heights = {segment.status: segment.height for segment in bar.segments}
    assert heights[DeliveryStatus.FAILED] >= MIN_SEGMENT  # 3 of 1,218 would be 0.5 px
    assert sum(heights.values()) == pytest.approx(drawn["bottom"] - TOP, abs=0.2)  # the peak
    assert drawn["totals"][DeliveryStatus.FAILED] == 3
