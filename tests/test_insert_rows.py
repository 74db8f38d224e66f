"""sql.insert_rows, the INSERT of the pipeline's and the imports' rows, on both databases: every
value comes back as it was sent, text that an array's text form would have to quote or escape
and a NULL beside the text "NULL" among them, whether a statement holds the rows (PostgreSQL's
arrays) or several do (SQLite's VALUES); RETURNING gives the inserted rows alone, in order."""
import pytest
import sqlalchemy as sa

from optintel.extensions import db
from optintel.models import Channel, Contact, ContactSource, Event, Trigger
from optintel.models.columns import utcnow
from optintel.sql import ROWS_PER_STATEMENT, insert_rows
from tests.conftest import database_of_kind, make_config

AWKWARD = ["NULL", "null", "", " ", 'say "hi"', "back\\slash", "{a,b}", "(1,2)", "it's",
           "comma, then", "tab\there", "new\nline", "é ü ß 中文 😀", "x" * 320]


@pytest.fixture(params=["sqlite", "postgresql"])
def app_config(request, redis_server):
    """The suite's database when it is of that kind, else one of that kind for these tests."""
    return make_config(database_of_kind(request, "insert_rows.db"), redis_server.url)


def event_rows(count):
    """(contact, contact_md5, subject_rule_id) rows: the awkward texts, NULLs and numbers in
    turn."""
    return [(AWKWARD[n % len(AWKWARD)] if n % 5 else None,
             None if n % 3 == 0 else f"{n:032x}",
             n % 7 if n % 4 else None) for n in range(count)]


@pytest.mark.parametrize("count", [1, len(AWKWARD), ROWS_PER_STATEMENT * 2 + 7])
def test_every_value_comes_back_as_it_was_sent(app, make_list, count):
    opt_out_list, now = make_list(), utcnow()
    rows = event_rows(count)
    returned = insert_rows(
        Event.__table__,
        {"trigger": Trigger.CONTACT_ADDED, "channel": Channel.EMAIL,
         "list_id": opt_out_list.id, "source": ContactSource.API, "occurred_at": now, "depth": 0},
        ("contact", "contact_md5", "subject_rule_id"), rows,
        returning=("id", "contact", "subject_rule_id"))
    db.session.commit()

    table = Event.__table__
    stored = db.session.execute(
        sa.select(table.c.id, table.c.contact, table.c.contact_md5, table.c.subject_rule_id,
                  table.c.trigger, table.c.list_id, table.c.occurred_at)
        .where(table.c.list_id == opt_out_list.id).order_by(table.c.id)).all()
    assert [(contact, md5, rule) for _, contact, md5, rule, *_ in stored] == rows
    assert {(trigger, list_id, occurred_at) for *_, trigger, list_id, occurred_at in stored} \
        == {(Trigger.CONTACT_ADDED, opt_out_list.id, now)}
    assert returned == [(id_, contact, rule) for id_, contact, _, rule, *_ in stored]


def test_returning_gives_only_the_rows_inserted(app, make_list):
    opt_out_list = make_list()
    rows = [(f"{n:032x}", AWKWARD[n]) for n in range(len(AWKWARD))]
    constants = {"list_id": opt_out_list.id, "source": ContactSource.API, "created_at": utcnow()}
    first = insert_rows(Contact.__table__, constants, ("md5", "value"), rows[::2],
                        returning=("md5", "value"), ignore_duplicates=True)
    again = insert_rows(Contact.__table__, constants, ("md5", "value"), rows,
                        returning=("md5", "value"), ignore_duplicates=True)
    db.session.commit()

    assert first == rows[::2]
    assert again == rows[1::2]
