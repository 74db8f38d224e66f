"""API Keys pages: Global Admin only; a key is shown once and only its hash is stored."""
import pytest
import sqlalchemy as sa

from optintel.extensions import db
from optintel.models import ApiKey, Role


@pytest.fixture
def issued(app, make_user):
    """An API key of a list owner, already in the database."""
    row, _ = ApiKey.issue(make_user(Role.LIST_OWNER), "CRM sync")
    db.session.add(row)
    db.session.commit()
    return row


ROUTES = [
    ("GET", "/api-keys/"),
    ("GET", "/api-keys/new"),
    ("POST", "/api-keys/new"),
    ("POST", "/api-keys/{id}/revoke"),
]


@pytest.mark.parametrize("role", [None, *Role], ids=str)
@pytest.mark.parametrize("method,url", ROUTES)
def test_only_global_admins_open_api_key_pages(web, make_user, issued, method, url, role):
    if role:
        web.login(make_user(role))
    response = web.open(url.format(id=issued.id), method=method, data={"csrf_token": web.csrf})
    if role is None:
        assert response.status_code == 302 and response.location.startswith("/login")
    elif role == Role.GLOBAL_ADMIN:
        assert response.status_code in (200, 302)
    else:
        assert response.status_code == 403
        assert db.session.get(ApiKey, issued.id) is not None


def test_table_shows_keys_without_the_key(as_admin, issued):
    page = as_admin.get("/api-keys/").get_data(as_text=True)
    for text in ("Name", "Prefix", "User", "Created At", "Last Used", "Actions", "CRM sync",
                 issued.prefix, issued.user.email, "Never", "Revoke"):
        assert text in page
    assert issued.key_hash not in page


def test_create_shows_the_key_once_and_stores_only_its_hash(as_admin, make_user):
    owner = make_user(Role.LIST_OWNER)
    response = as_admin.post_form("/api-keys/new", {"user_id": owner.id, "name": "Dialer"})
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    row = db.session.query(ApiKey).one()
    key = page.split('<p class="secret">')[1].split("</p>")[0]
    assert key.startswith(row.prefix) and len(key) > 40
    assert "it will not be shown again" in page
    assert (row.user, row.name, row.key_hash) == (owner, "Dialer", ApiKey.digest(key))
    assert key not in str(db.session.execute(sa.select(ApiKey.__table__)).all())
    assert ApiKey.find(key) == row
    listing = as_admin.get("/api-keys/").get_data(as_text=True)
    assert "Dialer" in listing and key not in listing


@pytest.mark.parametrize("data,field,message", [
    ({"name": "No user"}, "user_id", "Not a valid choice."),
    ({"user_id": "999", "name": "Ghost"}, "user_id", "Not a valid choice."),
    ({"user_id": "{admin}", "name": " "}, "name", "This field is required."),
    ({"user_id": "{admin}", "name": "x" * 121}, "name", "Field cannot be longer than 120 characters."),
])
def test_create_shows_errors_beside_fields_and_saves_nothing(as_admin, admin, field_errors, data,
                                                            field, message):
    data = {k: v.format(admin=admin.id) for k, v in data.items()}
    response = as_admin.post_form("/api-keys/new", data)
    assert response.status_code == 200
    assert field_errors(response.get_data(as_text=True)) == {field: [message]}
    assert db.session.query(ApiKey).count() == 0


def test_inactive_users_are_not_offered(as_admin, make_user):
    gone = make_user(Role.LIST_OWNER, active=False)
    assert gone.email not in as_admin.get("/api-keys/new").get_data(as_text=True)


def test_revoke_deletes_the_key(as_admin, issued):
    response = as_admin.post_form(f"/api-keys/{issued.id}/revoke", follow_redirects=True)
    assert "API key CRM sync" in response.get_data(as_text=True)
    assert db.session.query(ApiKey).count() == 0


def test_revoking_a_missing_key_is_404(as_admin):
    assert as_admin.post_form("/api-keys/999/revoke").status_code == 404


def test_post_without_csrf_token_is_rejected(as_admin, admin, issued):
    assert as_admin.post("/api-keys/new", data={"user_id": admin.id, "name": "x"}).status_code == 400
    assert as_admin.post(f"/api-keys/{issued.id}/revoke").status_code == 400
    assert db.session.query(ApiKey).all() == [issued]
