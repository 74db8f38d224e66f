"""Project Settings (Global Admin only) and the Logs page (everyone logged in)."""
import base64
import hashlib

import pytest
import sqlalchemy as sa
from cryptography.fernet import Fernet, InvalidToken

from optintel import create_app, secrets
from optintel.extensions import db
from optintel.models import ProjectSettings, Role

ROUTES = [
    ("GET", "/settings/"),
    ("GET", "/settings/opt-intel/settings"),
    ("POST", "/settings/opt-intel/settings"),
    ("GET", "/settings/opt-intel/tracking"),
]
FORM = {"default_phone_region": "GB", "smtp_host": " smtp.example.com ", "smtp_port": "465",
        "smtp_security": "tls", "smtp_username": "alerts", "smtp_password": "s3cret-pass",
        "smtp_from": "Alerts@Example.com"}


def _stored_settings():
    """The settings row as committed, not as this test's session remembers it."""
    db.session.rollback()
    return db.session.get(ProjectSettings, 1)


@pytest.mark.parametrize("role", [None, *Role], ids=str)
@pytest.mark.parametrize("method,url", ROUTES)
def test_only_global_admins_open_project_settings(web, make_user, method, url, role):
    if role:
        web.login(make_user(role))
    response = web.open(url, method=method, data={"csrf_token": web.csrf, **FORM})
    if role is None:
        assert response.status_code == 302 and response.location.startswith("/login")
    elif role == Role.GLOBAL_ADMIN:
        assert response.status_code in (200, 302)
    else:
        assert response.status_code == 403
        assert _stored_settings() is None


@pytest.mark.parametrize("role", [None, *Role], ids=str)
def test_everyone_logged_in_opens_logs(web, make_user, role):
    if role:
        web.login(make_user(role))
    response = web.get("/logs/")
    if role is None:
        assert response.status_code == 302 and response.location.startswith("/login")
    else:
        page = response.get_data(as_text=True)
        assert response.status_code == 200
        assert "Tracking Log" in page and "shows deliveries once tracking rules run" in page


def test_settings_page_has_the_opt_intel_tab_and_subtabs(as_admin):
    response = as_admin.get("/settings/", follow_redirects=True)
    page = response.get_data(as_text=True)
    assert response.request.path == "/settings/opt-intel/settings"
    for text in ("Project Settings", "Opt-Intel", "Settings", "Tracking", "Default Phone Region",
                 '<option selected value="US">', "SMTP Host", "No password is stored."):
        assert text in page
    assert 'href="/settings/opt-intel/tracking"' in page


def test_tracking_subtab_holds_the_project_rules(as_admin):
    page = as_admin.get("/settings/opt-intel/tracking").get_data(as_text=True)
    assert "Tracking Rules" in page and "/tracking/project/0/rules/new" in page
    assert 'aria-selected="true">Tracking</a>' in page


def test_saving_stores_settings_and_encrypts_the_password(as_admin):
    response = as_admin.post_form("/settings/opt-intel/settings", FORM)
    assert response.status_code == 302
    settings = _stored_settings()
    assert (settings.default_phone_region, settings.smtp_host, settings.smtp_port,
            settings.smtp_security, settings.smtp_username, settings.smtp_from) == (
        "GB", "smtp.example.com", 465, "tls", "alerts", "alerts@example.com")
    raw = db.session.execute(sa.text("SELECT smtp_password_encrypted FROM project_settings")).scalar()
    assert raw and "s3cret-pass" not in raw
    assert secrets.decrypt(raw) == "s3cret-pass"
    page = as_admin.get(response.location).get_data(as_text=True)
    assert "Project settings saved." in page and "A password is stored" in page
    assert "s3cret-pass" not in page and raw not in page


def test_empty_password_keeps_the_stored_one_and_clear_removes_it(as_admin):
    as_admin.post_form("/settings/opt-intel/settings", FORM)
    token = _stored_settings().smtp_password_encrypted
    as_admin.post_form("/settings/opt-intel/settings", {**FORM, "smtp_password": ""})
    assert _stored_settings().smtp_password_encrypted == token
    as_admin.post_form("/settings/opt-intel/settings",
                       {**FORM, "smtp_password": "", "clear_smtp_password": "y"})
    assert _stored_settings().smtp_password_encrypted == ""


@pytest.mark.parametrize("change,field,message", [
    ({"default_phone_region": "XX"}, "default_phone_region", "Not a valid choice."),
    ({"default_phone_region": "us"}, "default_phone_region", "Not a valid choice."),
    ({"smtp_port": "70000"}, "smtp_port", "Number must be between 1 and 65535."),
    ({"smtp_port": ""}, "smtp_port", "This field is required."),
    ({"smtp_security": "ssl3"}, "smtp_security", "Not a valid choice."),
    ({"smtp_from": "nobody"}, "smtp_from", "An email address must have an @-sign."),
    ({"smtp_from": ""}, "smtp_from", "Give the from address of the default SMTP connection."),
    ({"clear_smtp_password": "y"}, "clear_smtp_password",
     "Either type a new password or clear the stored one, not both."),
])
def test_invalid_settings_show_errors_beside_fields_and_save_nothing(as_admin, field_errors, change,
                                                                     field, message):
    as_admin.post_form("/settings/opt-intel/settings", FORM)
    before = db.session.execute(sa.select(ProjectSettings.__table__)).one()
    response = as_admin.post_form("/settings/opt-intel/settings", {**FORM, **change})
    assert response.status_code == 200
    assert field_errors(response.get_data(as_text=True)) == {field: [message]}
    db.session.rollback()
    assert db.session.execute(sa.select(ProjectSettings.__table__)).one() == before


def test_the_password_input_never_renders_the_stored_value(as_admin):
    as_admin.post_form("/settings/opt-intel/settings", FORM)
    response = as_admin.post_form("/settings/opt-intel/settings", {**FORM, "smtp_port": "0"})
    page = response.get_data(as_text=True)
    assert 'name="smtp_password" type="password" value=""' in page
    assert "s3cret-pass" not in page


def test_secrets_use_the_configured_encryption_key(app_config):
    key = Fernet.generate_key()
    app_config.OPTINTEL_ENCRYPTION_KEY = key.decode()
    with create_app(app_config).app_context():
        token = secrets.encrypt("hunter22")
    assert Fernet(key).decrypt(token.encode()) == b"hunter22"


def test_secrets_without_a_key_are_not_encrypted_with_one_derived_from_the_secret_key(
        app_config, tmp_path):
    # A SQLite install with no encryption key given: its key is generated in the instance folder.
    app_config.SQLALCHEMY_DATABASE_URI, app_config.OPTINTEL_INSTANCE = "sqlite://", str(tmp_path)
    app_config.OPTINTEL_ENCRYPTION_KEY = None
    with create_app(app_config).app_context():
        token = secrets.encrypt("hunter22")
        assert secrets.decrypt(token) == "hunter22"
    derived = base64.urlsafe_b64encode(hashlib.sha256(app_config.SECRET_KEY.encode()).digest())
    with pytest.raises(InvalidToken):
        Fernet(derived).decrypt(token.encode())


def test_post_without_csrf_token_is_rejected(as_admin):
    assert as_admin.post("/settings/opt-intel/settings", data=FORM).status_code == 400
    assert _stored_settings() is None
