"""Users pages: Global Admin only; passwords hashed, emails unique, no self-demotion."""
import pytest
import sqlalchemy as sa

from optintel.extensions import db
from optintel.models import Role, User

ROUTES = [
    ("GET", "/users/"),
    ("GET", "/users/new"),
    ("POST", "/users/new"),
    ("GET", "/users/{id}/edit"),
    ("POST", "/users/{id}/edit"),
]
NEW_USER = {"email": " Lena@Example.com ", "name": "Lena List", "role": "list_owner",
            "password": "a long passphrase"}


def _user(email):
    return db.session.scalar(sa.select(User).where(User.email == email))


@pytest.mark.parametrize("role", [None, *Role], ids=str)
@pytest.mark.parametrize("method,url", ROUTES)
def test_only_global_admins_open_user_pages(web, make_user, method, url, role):
    other = make_user(Role.LIST_OWNER, name="Other")
    if role:
        web.login(make_user(role))
    response = web.open(url.format(id=other.id), method=method, data={"csrf_token": web.csrf})
    if role is None:
        assert response.status_code == 302 and response.location.startswith("/login")
    elif role == Role.GLOBAL_ADMIN:
        assert response.status_code in (200, 302)
    else:
        assert response.status_code == 403
        db.session.refresh(other)
        assert (other.name, other.active) == ("Other", True)


def test_table_shows_users_with_actions(as_admin, make_user):
    make_user(Role.CAMPAIGN_MANAGER, email="cam@example.com", name="Cam", active=False)
    page = as_admin.get("/users/").get_data(as_text=True)
    for text in ("Email", "Role", "Active", "Created At", "Actions", "cam@example.com", "Cam",
                 "Campaign Manager", "Inactive", "Edit", "UTC"):
        assert text in page


def test_create_hashes_the_password_and_lowercases_the_email(as_admin, web):
    response = as_admin.post_form("/users/new", NEW_USER)
    assert response.status_code == 302
    user = _user("lena@example.com")
    assert (user.name, user.role, user.active) == ("Lena List", Role.LIST_OWNER, True)
    assert user.password_hash.startswith("$argon2id$") and "a long passphrase" not in user.password_hash
    assert user.check_password("a long passphrase")


def test_new_user_can_log_in(as_admin):
    as_admin.post_form("/users/new", NEW_USER)
    as_admin.post_form("/logout")
    as_admin.login(_user("lena@example.com"), password="a long passphrase")
    assert "Lena List · List Owner" in as_admin.get("/").get_data(as_text=True)


@pytest.mark.parametrize("field,value,message", [
    ("email", "admin@example.com", "Another user has this email."),
    ("email", "ADMIN@example.com", "Another user has this email."),
    ("email", "not-an-email", "An email address must have an @-sign."),
    ("password", "too short", "At least 10 characters."),
    ("password", "", "This field is required."),
    ("role", "superuser", "Not a valid choice."),
])
def test_create_shows_the_error_beside_its_field_and_saves_nothing(as_admin, field_errors, field,
                                                                   value, message):
    response = as_admin.post_form("/users/new", {**NEW_USER, field: value})
    assert response.status_code == 200
    assert field_errors(response.get_data(as_text=True)) == {field: [message]}
    assert db.session.scalar(sa.select(sa.func.count()).select_from(User)) == 1


def test_edit_changes_name_role_activity_and_password(as_admin, make_user):
    user = make_user(Role.LIST_OWNER)
    old_hash = user.password_hash
    response = as_admin.post_form(f"/users/{user.id}/edit", {
        "name": "Renamed", "role": "campaign_manager", "password": "another passphrase"})
    assert response.status_code == 302
    db.session.refresh(user)
    assert (user.name, user.role, user.active) == ("Renamed", Role.CAMPAIGN_MANAGER, False)
    assert user.password_hash != old_hash and user.check_password("another passphrase")


def test_edit_without_password_keeps_it(as_admin, make_user):
    user = make_user(Role.LIST_OWNER)
    old_hash = user.password_hash
    as_admin.post_form(f"/users/{user.id}/edit", {"name": "N", "role": "list_owner", "active": "y"})
    db.session.refresh(user)
    assert (user.name, user.active, user.password_hash) == ("N", True, old_hash)


def test_edit_page_never_shows_the_password_hash(as_admin, admin):
    page = as_admin.get(f"/users/{admin.id}/edit").get_data(as_text=True)
    assert f"Edit User {admin.email}" in page
    assert admin.password_hash not in page


@pytest.mark.parametrize("change,field,message", [
    ({"role": "list_owner", "active": "y"}, "role",
     "You cannot change your own role; ask another Global Admin."),
    ({"role": "global_admin"}, "active", "You cannot deactivate yourself; ask another Global Admin."),
])
def test_admin_cannot_demote_or_deactivate_themselves(as_admin, admin, field_errors, change, field,
                                                      message):
    response = as_admin.post_form(f"/users/{admin.id}/edit", {"name": "Ada", **change})
    assert response.status_code == 200
    assert field_errors(response.get_data(as_text=True)) == {field: [message]}
    db.session.refresh(admin)
    assert (admin.name, admin.role, admin.active) == ("Ada Admin", Role.GLOBAL_ADMIN, True)


def test_admin_can_demote_another_admin(as_admin, make_user):
    other = make_user(Role.GLOBAL_ADMIN)
    as_admin.post_form(f"/users/{other.id}/edit", {"role": "list_owner", "active": "y"})
    db.session.refresh(other)
    assert other.role == Role.LIST_OWNER


def test_missing_user_is_404(as_admin):
    assert as_admin.get("/users/999/edit").status_code == 404


def test_post_without_csrf_token_is_rejected(as_admin):
    assert as_admin.post("/users/new", data=NEW_USER).status_code == 400
    assert _user("lena@example.com") is None
