"""/api/v1/mailers: Global Admins write, Campaign Managers read, List Owners are refused."""
import pytest

from optintel.contact_changes import Origin, add_contacts
from optintel.extensions import db
from optintel.models import Mailer, Role, Status

NEW = {"company_name": "Acme Mail", "nickname": "acme", "email": " Ops@Acme.example ",
       "web_address": "https://acme.example", "notes": "Weekly sends"}


def test_create_answers_201_with_the_mailer(api):
    response = api.post("/mailers", json=NEW)
    assert response.status_code == 201
    body = response.json
    assert body["id"] and body["email"] == "ops@acme.example" and body["status"] == "active"
    assert body["created_at"].endswith(("Z", "+00:00"))
    mailer = db.session.get(Mailer, body["id"])
    assert (mailer.nickname, mailer.email, mailer.notes) == \
        ("acme", "ops@acme.example", "Weekly sends")


def test_create_needs_only_the_required_fields(api):
    response = api.post("/mailers", json={"company_name": "A", "nickname": "a",
                                          "email": "a@a.example"})
    assert response.status_code == 201
    assert (response.json["web_address"], response.json["notes"]) == ("", "")


@pytest.mark.parametrize("body, field, message", [
    ({**NEW, "email": "not-an-email"}, "email", "@-sign"),
    ({**NEW, "company_name": "  "}, "company_name", "This field is required."),
    ({**NEW, "web_address": "acme.example"}, "web_address", "http://"),
    ({**NEW, "status": "paused"}, "status", "Must be one of: active, disabled."),
    ({**NEW, "nickname": 7}, "nickname", "Not a valid string."),
])
def test_invalid_fields_are_422_with_the_reason(api, body, field, message):
    response = api.post("/mailers", json=body)
    assert response.status_code == 422
    assert list(response.json["error"]["fields"]) == [field]
    assert message in response.json["error"]["fields"][field][0]
    assert db.session.query(Mailer).count() == 0


def test_taken_nickname_is_422_on_the_field(api, make_mailer):
    make_mailer(nickname="acme")
    response = api.post("/mailers", json=NEW)
    assert response.status_code == 422
    assert response.json["error"]["fields"] == {"nickname": ["Another mailer has this nickname."]}


def test_list_and_show(api, make_mailer):
    first, second = make_mailer(), make_mailer(status=Status.DISABLED)
    listed = api.get("/mailers").json
    assert [m["id"] for m in listed] == [first.id, second.id]
    assert listed[1]["status"] == "disabled"
    assert api.get(f"/mailers/{first.id}").json["nickname"] == first.nickname


def test_patch_changes_only_the_given_fields(api, make_mailer):
    mailer = make_mailer(nickname="acme", notes="old")
    response = api.patch(f"/mailers/{mailer.id}", json={"notes": "new", "status": "disabled"})
    assert response.status_code == 200
    assert (response.json["notes"], response.json["status"], response.json["nickname"]) == \
        ("new", "disabled", "acme")
    db.session.refresh(mailer)
    assert (mailer.notes, mailer.status) == ("new", Status.DISABLED)


def test_patch_keeps_its_own_nickname_but_not_anothers(api, make_mailer):
    mailer = make_mailer(nickname="acme")
    make_mailer(nickname="zeta")
    assert api.patch(f"/mailers/{mailer.id}", json={"nickname": "acme"}).status_code == 200
    response = api.patch(f"/mailers/{mailer.id}", json={"nickname": "zeta", "email": "x"})
    assert response.status_code == 422
    assert set(response.json["error"]["fields"]) == {"nickname", "email"}
    db.session.refresh(mailer)
    assert mailer.nickname == "acme"


def test_delete(api, make_mailer):
    mailer = make_mailer()
    response = api.delete(f"/mailers/{mailer.id}")
    assert response.status_code == 204 and response.data == b""
    assert db.session.get(Mailer, mailer.id) is None
    assert api.get(f"/mailers/{mailer.id}").status_code == 404


def test_delete_of_a_mailer_with_history_is_409(api, make_mailer, make_list):
    mailer = make_mailer()
    add_contacts(make_list(), ["a@example.com"], Origin("api", mailer_id=mailer.id))
    response = api.delete(f"/mailers/{mailer.id}")
    assert response.status_code == 409
    assert response.json["error"]["code"] == "conflict"
    assert "recorded events" in response.json["error"]["message"]
    assert db.session.get(Mailer, mailer.id) is not None


@pytest.mark.parametrize("method", ["get", "patch", "delete"])
def test_unknown_mailer_is_404(api, method):
    response = api.request(method, "/mailers/999", json={} if method == "patch" else None)
    assert response.status_code == 404


@pytest.mark.parametrize("role, method, path, status", [
    (Role.CAMPAIGN_MANAGER, "get", "/mailers", 200),
    (Role.CAMPAIGN_MANAGER, "get", "/mailers/{id}", 200),
    (Role.CAMPAIGN_MANAGER, "post", "/mailers", 403),
    (Role.CAMPAIGN_MANAGER, "patch", "/mailers/{id}", 403),
    (Role.CAMPAIGN_MANAGER, "delete", "/mailers/{id}", 403),
    (Role.LIST_OWNER, "get", "/mailers", 403),
    (Role.LIST_OWNER, "get", "/mailers/{id}", 403),
    (Role.LIST_OWNER, "post", "/mailers", 403),
    (Role.LIST_OWNER, "patch", "/mailers/{id}", 403),
    (Role.LIST_OWNER, "delete", "/mailers/{id}", 403),
])
def test_roles(api_as, make_user, make_mailer, role, method, path, status):
    mailer = make_mailer(nickname="acme", notes="kept")
    client = api_as(make_user(role))
    body = {**NEW, "nickname": "new", "notes": "changed"} if method in ("post", "patch") else None
    response = client.request(method, path.format(id=mailer.id), body)
    assert response.status_code == status
    if status == 403:
        assert response.json["error"]["code"] == "forbidden"
        db.session.refresh(mailer)
        assert (mailer.notes, db.session.query(Mailer).count()) == ("kept", 1)
