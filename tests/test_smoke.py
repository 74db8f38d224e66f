from optintel.contact_changes import Origin, add_contacts, remove_contacts
from optintel.models import Event


def test_login_page_renders(web):
    response = web.get("/login")
    assert response.status_code == 200
    assert b"Log in" in response.data


def test_admin_logs_in_and_sees_menu(as_admin):
    page = as_admin.get("/").get_data(as_text=True)
    assert "Email Opt-out Lists" in page


def test_add_and_remove_record_events(app, make_list):
    lst = make_list()
    outcome = add_contacts(lst, [" A@Example.com ", "a@example.com", "bad"], Origin("manual"))
    assert (outcome.changed, outcome.unchanged, len(outcome.invalid)) == (1, 1, 1)
    outcome = remove_contacts(lst, ["a@example.com", "b@example.com"], Origin("manual"))
    assert (outcome.changed, outcome.unchanged) == (1, 1)
    assert [e.trigger.value for e in Event.query.order_by(Event.id)] == ["contact_added", "contact_deleted"]
