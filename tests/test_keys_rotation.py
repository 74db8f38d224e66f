"""`flask secrets`: a new key, rotation of every stored secret under it, dropping the old keys;
with the keys in the environment (test database) and in the instance folder (a default
install)."""
import base64
import io
import os
import stat
import zlib

import pytest
import sqlalchemy as sa
from cryptography.fernet import Fernet, InvalidToken

from optintel import create_app, imports, secrets
from optintel.config import TestConfig
from optintel.extensions import db
from optintel.key_rotation import encrypted_columns
from optintel.imports import running
from optintel.models import (ActionType, Contact, ContactImport, Delivery, DeliveryStatus,
                             ImportChunk, ImportStatus, Level, ProjectSettings, TrackingRule,
                             Trigger)
from optintel.rules.storage import store_settings, stored_settings
from tests.conftest import KEYS, fresh, wait_for
from tests.installs import config, default_env, flask

OLD = TestConfig.OPTINTEL_ENCRYPTION_KEY
MESSAGE = {"from": "alerts@optintel.example", "to": ["compliance@example.com"],
           "subject": "Opt-out on {{list_name}}", "body": "{{contact}} was added."}
PING = {"method": "POST", "url": "http://127.0.0.1:9/hook", "headers": {}, "secret_headers": [],
        "content_type": "json", "body": "{}", "timeout": 10,
        "signing_secret": "whsec_" + base64.b64encode(b"a rule's signing secret").decode()}


def stored_tokens():
    """Every non-empty value of the encrypted columns, as the database holds it."""
    db.session.rollback()
    return [token for column in encrypted_columns()
            for token in db.session.scalars(sa.select(column)) if token]


def with_keys(database_url, keys):
    """The environment of a `flask` process on the test database with these encryption keys."""
    return dict(os.environ, FLASK_APP="app.py", DATABASE_URL=database_url,
                **{**KEYS, "OPTINTEL_ENCRYPTION_KEYS": ",".join(keys)})


def import_tokens():
    """Every stored chunk and invalid-lines report of the imports, as the database holds them."""
    db.session.rollback()
    return [token for row in db.session.execute(sa.select(ImportChunk.payload,
                                                          ImportChunk.invalid_lines))
            for token in row if token is not None]


def test_the_encrypted_columns_are_the_rules_secrets_the_smtp_password_and_sms_auth_tokens():
    assert {f"{c.table.name}.{c.name}" for c in encrypted_columns()} == {
        "tracking_rules.secret_settings", "project_settings.smtp_password_encrypted",
        "campaigns.sms_auth_token_encrypted", "import_chunks.payload",
        "import_chunks.invalid_lines"}


def test_rotate_reencrypts_the_rules_secret_and_the_smtp_password_for_the_new_key_alone(
        app, database_url, api, make_rule, make_list, make_workers, smtp_server):
    settings = ProjectSettings.get()
    settings.smtp_host, settings.smtp_port, settings.smtp_security = \
        "127.0.0.1", smtp_server.port, "none"
    settings.smtp_username, settings.smtp_password_encrypted = "relay", secrets.encrypt("relay-pa55")
    db.session.commit()
    make_rule("smtp", {**MESSAGE, "connection": "default"})
    make_rule("smtp", {**MESSAGE, "connection": "custom", "host": "127.0.0.1",
                       "port": smtp_server.port, "security": "none", "username": "custom",
                       "password": "custom-pa55"})
    before = stored_tokens()
    assert len(before) == 2

    new = Fernet.generate_key().decode()
    rotate_two_secrets(database_url, new)
    done = flask(with_keys(database_url, [new, OLD]), "secrets", "drop-old-keys")
    assert done.returncode == 0, done.stderr
    assert "Every stored secret decrypts with the newest key alone" in done.stdout
    assert "remove the older ones from OPTINTEL_ENCRYPTION_KEYS" in done.stdout

    after = stored_tokens()
    assert len(after) == 2 and not set(after) & set(before)
    for token in after:
        Fernet(new).decrypt(token.encode())
        with pytest.raises(InvalidToken):
            Fernet(OLD).decrypt(token.encode())

    # A worker that knows the new key alone logs in to both SMTP connections.
    smtp_server.credentials = {"relay": "relay-pa55", "custom": "custom-pa55"}
    make_workers(OPTINTEL_ENCRYPTION_KEYS=new).start(1)
    opt_out_list = make_list()
    assert api.post(f"/email-lists/{opt_out_list.id}/emails-add",
                    {"emails": ["someone@example.com"]}).status_code == 200
    wait_for(lambda: len(smtp_server.messages) == 2, timeout=30, message="two emails")
    assert sorted(smtp_server.logins) == ["custom", "relay"]
    wait_for(lambda: [d.status for d in fresh(sa.select(Delivery))] ==
             [DeliveryStatus.SUCCEEDED] * 2, message="both deliveries to succeed")


def rotate_two_secrets(database_url, new):
    """drop-old-keys refuses while 2 secrets are under the old key; rotate re-encrypts them."""
    early = flask(with_keys(database_url, [new, OLD]), "secrets", "drop-old-keys")
    assert early.returncode == 1
    assert "2 stored secret(s) are not encrypted under the newest key" in early.stderr
    rotated = flask(with_keys(database_url, [new, OLD]), "secrets", "rotate")
    assert rotated.returncode == 0, rotated.stderr
    assert "Re-encrypted 2 stored secret(s) under the newest key." in rotated.stdout


def test_rotate_reencrypts_a_queued_import_and_an_invalid_lines_report_for_the_new_key_alone(
        app, database_url, make_list, make_workers):
    opt_out_list = make_list()
    done = imports.start(opt_out_list, io.BytesIO(b"done@example.com\nnot-an-email\n"),
                         file_name="done.txt", hand_off=False)
    assert running.run(done.id, slice_seconds=None) == "done"
    queued = imports.start(opt_out_list, io.BytesIO(b"queued@example.com\n"),
                           file_name="queued.txt", hand_off=False)
    before = import_tokens()
    assert len(before) == 2  # the report of the import done, the chunk of the queued one

    new = Fernet.generate_key().decode()
    rotate_two_secrets(database_url, new)
    dropped = flask(with_keys(database_url, [new, OLD]), "secrets", "drop-old-keys")
    assert dropped.returncode == 0, dropped.stderr

    after = import_tokens()
    assert len(after) == 2 and not set(after) & set(before)
    for token in after:
        with pytest.raises(InvalidToken):
            Fernet(OLD).decrypt(token)
    (report,) = db.session.scalars(sa.select(ImportChunk.invalid_lines)
                                   .where(ImportChunk.import_id == done.id))
    line, value, _ = zlib.decompress(Fernet(new).decrypt(report)).decode().split("\t", 2)
    assert (line, value) == ("2", "not-an-email")

    # A worker that knows the new key alone works through the queued import.
    make_workers(OPTINTEL_ENCRYPTION_KEYS=new).start(1)
    running.hand_off(queued.id)
    wait_for(lambda: fresh(sa.select(ContactImport.status).where(ContactImport.id == queued.id))
             == [ImportStatus.DONE], timeout=30, message="the queued import to be done")
    assert "queued@example.com" in fresh(sa.select(Contact.value)
                                         .where(Contact.list_id == opt_out_list.id))


def test_rotate_changes_nothing_when_a_value_reads_with_no_key(app, make_rule):
    readable = make_rule("ping_url", PING)
    foreign = make_rule("ping_url", PING)
    db.session.get(TrackingRule, foreign).secret_settings = \
        Fernet(Fernet.generate_key()).encrypt(b"{}").decode()
    db.session.commit()
    before = stored_tokens()

    result = app.test_cli_runner().invoke(args=["secrets", "rotate"])
    assert result.exit_code == 1
    assert (f"tracking_rules.secret_settings of id {foreign} cannot be decrypted with any of the "
            f"configured keys. Nothing was changed.") in result.output
    assert stored_tokens() == before
    assert stored_settings(db.session.get(TrackingRule, readable)) == PING


def test_new_key_prints_a_key_and_keeps_nothing(app):
    result = app.test_cli_runner().invoke(args=["secrets", "new-key"])
    assert result.exit_code == 0
    Fernet(result.output.strip())
    assert result.output.strip() != OLD


def test_add_key_refuses_when_the_keys_come_from_the_environment(app):
    result = app.test_cli_runner().invoke(args=["secrets", "add-key"])
    assert result.exit_code == 1
    assert "The encryption keys come from the environment" in result.output
    assert "OPTINTEL_ENCRYPTION_KEYS" in result.output


def test_rotation_of_the_keys_of_a_default_install(tmp_path):
    """The README's steps on one machine: add-key, (restart), rotate, drop-old-keys."""
    env, file = default_env(tmp_path), tmp_path / "instance" / "encryption_keys"
    assert flask(env, "db", "upgrade").returncode == 0
    (old,) = file.read_text().split()
    with create_app(config(tmp_path)).app_context():
        ProjectSettings.get().smtp_password_encrypted = secrets.encrypt("relay-pa55")
        rule = TrackingRule(level=Level.PROJECT, trigger=Trigger.CONTACT_ADDED,
                            action=ActionType.PING_URL)
        store_settings(rule, PING)
        db.session.add(rule)
        db.session.commit()
        db.engine.dispose()

    added = flask(env, "secrets", "add-key")
    assert added.returncode == 0, added.stderr
    assert "Restart the web server and the workers, then run `flask secrets rotate`" in \
        added.stdout
    new, kept = file.read_text().split()
    assert kept == old and new != old
    assert stat.S_IMODE(file.stat().st_mode) == 0o600
    early = flask(env, "secrets", "drop-old-keys")
    assert early.returncode == 1 and "run `flask secrets rotate` first" in early.stderr
    rotated = flask(env, "secrets", "rotate")
    assert "Re-encrypted 2 stored secret(s) under the newest key." in rotated.stdout
    dropped = flask(env, "secrets", "drop-old-keys")
    assert dropped.returncode == 0, dropped.stderr
    assert f"Kept the newest key of {file}, dropped 1." in dropped.stdout
    assert file.read_text().split() == [new]
    assert stat.S_IMODE(file.stat().st_mode) == 0o600

    with create_app(config(tmp_path)).app_context():
        tokens = stored_tokens()
        assert secrets.decrypt(ProjectSettings.get().smtp_password_encrypted) == "relay-pa55"
        assert stored_settings(db.session.scalar(sa.select(TrackingRule))) == PING
        db.engine.dispose()
    assert len(tokens) == 2
    for token in tokens:
        with pytest.raises(InvalidToken):
            Fernet(old).decrypt(token.encode())
