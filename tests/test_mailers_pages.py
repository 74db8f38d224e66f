"""Mailers pages: Global Admin only; create, edit and delete through the domain's rules."""
import pytest

from optintel.contact_changes import Origin, add_contacts
from optintel.extensions import db
from optintel.models import Mailer, Role, Status

ROUTES = [
    ("GET", "/mailers/"),
    ("GET", "/mailers/new"),
    ("POST", "/mailers/new"),
    ("GET", "/mailers/{id}/edit"),
    ("POST", "/mailers/{id}/edit"),
    ("POST", "/mailers/{id}/delete"),
]
FORM = {"company_name": "Acme Sends", "nickname": "acme", "email": " Ops@Acme.example ",
        "web_address": "https://acme.example", "notes": "Weekly sends", "status": "active"}


@pytest.mark.parametrize("role", [None, *Role], ids=str)
@pytest.mark.parametrize("method,url", ROUTES)
def test_only_global_admins_open_mailer_pages(web, make_user, make_mailer, method, url, role):
    mailer = make_mailer()
    if role:
        web.login(make_user(role))
    response = web.open(url.format(id=mailer.id), method=method, data={"csrf_token": web.csrf})
    if role is None:
        assert response.status_code == 302 and response.location.startswith("/login")
    elif role == Role.GLOBAL_ADMIN:
        assert response.status_code in (200, 302)
    else:
        assert response.status_code == 403
        assert db.session.get(Mailer, mailer.id) is not None


def test_table_shows_mailers_with_actions(as_admin, make_mailer):
    make_mailer(company_name="Acme Sends", nickname="acme", web_address="https://acme.example",
                status=Status.DISABLED)
    page = as_admin.get("/mailers/").get_data(as_text=True)
    for text in ("Company Name", "Nickname", "Web Address", "Actions", "Acme Sends", "acme",
                 "https://acme.example", "Disabled", "Edit", "Delete the mailer acme?"):
        assert text in page


def test_table_pages_by_keyset(as_admin, make_mailer):
    mailers = [make_mailer() for _ in range(51)]
    first = as_admin.get("/mailers/").get_data(as_text=True)
    assert f">{mailers[-1].nickname}<" in first and f">{mailers[0].nickname}<" not in first
    assert f'href="/mailers/?after={mailers[1].id}">Next' in first
    second = as_admin.get(f"/mailers/?after={mailers[1].id}").get_data(as_text=True)
    assert f">{mailers[0].nickname}<" in second and "← Previous" in second


def test_create_saves_a_normalised_mailer(as_admin):
    response = as_admin.post_form("/mailers/new", FORM)
    assert response.status_code == 302
    mailer = db.session.query(Mailer).one()
    assert (mailer.nickname, mailer.email, mailer.status) == ("acme", "ops@acme.example",
                                                             Status.ACTIVE)
    assert "Mailer acme saved." in as_admin.get(response.location).get_data(as_text=True)


def test_create_shows_errors_beside_fields_and_saves_nothing(as_admin, make_mailer, field_errors):
    make_mailer(nickname="acme")
    bad = {**FORM, "company_name": " ", "email": "not-an-email", "web_address": "acme.example"}
    response = as_admin.post_form("/mailers/new", bad)
    assert response.status_code == 200
    assert field_errors(response.get_data(as_text=True)) == {
        "company_name": ["This field is required."],
        "nickname": ["Another mailer has this nickname."],
        "email": ["An email address must have an @-sign."],
        "web_address": ["Start the web address with http:// or https://."],
    }
    assert db.session.query(Mailer).count() == 1


def test_edit_changes_the_mailer(as_admin, make_mailer):
    mailer = make_mailer()
    assert f"Edit Mailer {mailer.nickname}" in as_admin.get(f"/mailers/{mailer.id}/edit").get_data(
        as_text=True)
    response = as_admin.post_form(f"/mailers/{mailer.id}/edit", {**FORM, "status": "disabled"})
    assert response.status_code == 302
    db.session.refresh(mailer)
    assert (mailer.company_name, mailer.nickname, mailer.status) == ("Acme Sends", "acme",
                                                                     Status.DISABLED)


def test_edit_with_errors_changes_nothing(as_admin, make_mailer, field_errors):
    mailer = make_mailer(company_name="Before")
    response = as_admin.post_form(f"/mailers/{mailer.id}/edit", {**FORM, "email": "nope"})
    assert response.status_code == 200
    assert list(field_errors(response.get_data(as_text=True))) == ["email"]
    db.session.expire_all()
    assert db.session.get(Mailer, mailer.id).company_name == "Before"


def test_missing_mailer_is_404(as_admin):
    assert as_admin.get("/mailers/999/edit").status_code == 404
    assert as_admin.post_form("/mailers/999/delete").status_code == 404


def test_delete_removes_an_unused_mailer(as_admin, make_mailer):
    mailer = make_mailer()
    response = as_admin.post_form(f"/mailers/{mailer.id}/delete", follow_redirects=True)
    assert f"Mailer {mailer.nickname} deleted." in response.get_data(as_text=True)
    assert db.session.query(Mailer).count() == 0


def test_delete_is_refused_for_a_mailer_with_history(as_admin, make_mailer, make_list):
    mailer = make_mailer()
    add_contacts(make_list(), ["a@example.com"], Origin("manual", mailer_id=mailer.id))
    response = as_admin.post_form(f"/mailers/{mailer.id}/delete", follow_redirects=True)
    page = response.get_data(as_text=True)
    assert "cannot be deleted: The mailer has recorded events" in page
    assert db.session.get(Mailer, mailer.id) is not None


def test_post_without_csrf_token_is_rejected(as_admin, make_mailer):
    mailer = make_mailer()
    assert as_admin.post("/mailers/new", data=FORM).status_code == 400
    assert as_admin.post(f"/mailers/{mailer.id}/delete").status_code == 400
    assert db.session.query(Mailer).count() == 1
