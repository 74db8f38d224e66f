"""The keys of an installation (optintel/keys.py): generated once into the instance folder when
none is given and reused afterwards, the same for processes that start together, readable by
their owner only; a shared database refuses to start without keys given."""
import multiprocessing
import stat
import subprocess
import sys

import pytest
from cryptography.fernet import Fernet

from optintel import create_app, secrets
from optintel.keys import KeySetupError, current_keyring, read_or_create
from tests.conftest import ROOT, free_port
from tests.installs import config, default_env, flask

# A PostgreSQL server nobody listens for: the refusal must come before any connection.
POSTGRES = "postgresql+psycopg://optintel@127.0.0.1:{port}/optintel"


def key_files(instance):
    """{name: (text, inode, mtime)} of the key files of an instance folder."""
    return {path.name: (path.read_text(), path.stat().st_ino, path.stat().st_mtime_ns)
            for path in sorted(instance.iterdir()) if path.name in ("secret_key", "encryption_keys")}


def test_the_first_start_generates_the_keys_and_the_second_reuses_them(tmp_path):
    env = default_env(tmp_path)
    first = flask(env, "db", "upgrade")
    assert first.returncode == 0, first.stderr
    instance = tmp_path / "instance"
    generated = key_files(instance)
    assert sorted(generated) == ["encryption_keys", "secret_key"]
    for name in generated:
        assert stat.S_IMODE((instance / name).stat().st_mode) == 0o600, name
    assert stat.S_IMODE(instance.stat().st_mode) == 0o700
    assert [path.name for path in instance.iterdir() if path.name.startswith(".")] == []

    second = flask(env, "secrets", "rotate")
    assert second.returncode == 0, second.stderr
    assert "Re-encrypted 0 stored secret(s)" in second.stdout
    assert key_files(instance) == generated  # read, not written again

    app = create_app(config(tmp_path))  # a third start, in this process
    assert app.secret_key == generated["secret_key"][0].strip()
    with app.app_context():
        assert current_keyring().keys == (generated["encryption_keys"][0].strip(),)
        assert current_keyring().file == instance / "encryption_keys"
    assert app.secret_key not in generated["encryption_keys"][0]


def test_a_secret_encrypted_by_one_process_decrypts_in_another(tmp_path):
    with create_app(config(tmp_path)).app_context():
        token = secrets.encrypt("relay password")
    script = ("import sys; from optintel import create_app, secrets\n"
              "with create_app().app_context(): print(secrets.decrypt(sys.argv[1]))")
    other = subprocess.run([sys.executable, "-c", script, token], cwd=ROOT,
                           env=default_env(tmp_path), capture_output=True, text=True, timeout=60)
    assert other.returncode == 0, other.stderr
    assert other.stdout.splitlines()[-1] == "relay password"


def _read_or_create_at(barrier, path, results):
    barrier.wait()
    results.put(read_or_create(path, lambda: Fernet.generate_key().decode()))


def test_processes_starting_together_agree_on_one_key(tmp_path):
    path, count = tmp_path / "instance" / "encryption_keys", 8
    context = multiprocessing.get_context("fork")
    barrier, results = context.Barrier(count), context.Queue()
    processes = [context.Process(target=_read_or_create_at, args=(barrier, path, results))
                 for _ in range(count)]
    for process in processes:
        process.start()
    keys = [results.get(timeout=30) for _ in processes]
    for process in processes:
        process.join(10)
    assert len(set(keys)) == 1 and keys[0] == path.read_text().strip()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert [p.name for p in path.parent.iterdir()] == ["encryption_keys"]  # no candidate left


def test_given_keys_write_nothing_into_the_instance_folder(tmp_path):
    key = Fernet.generate_key().decode()
    app = create_app(config(tmp_path, SECRET_KEY="a given secret key", OPTINTEL_ENCRYPTION_KEY=key))
    assert app.secret_key == "a given secret key"
    with app.app_context():
        assert current_keyring().keys == (key,) and current_keyring().file is None
    assert key_files(tmp_path / "instance") == {}


def test_several_keys_decrypt_and_the_first_encrypts(tmp_path):
    old, new = Fernet.generate_key(), Fernet.generate_key()
    with create_app(config(tmp_path, OPTINTEL_ENCRYPTION_KEY=old.decode())).app_context():
        old_token = secrets.encrypt("stored long ago")
    both = f" {new.decode()} , {old.decode()} "
    with create_app(config(tmp_path, OPTINTEL_ENCRYPTION_KEYS=both)).app_context():
        assert secrets.decrypt(old_token) == "stored long ago"
        assert Fernet(new).decrypt(secrets.encrypt("stored now").encode()) == b"stored now"
    with create_app(config(tmp_path, OPTINTEL_ENCRYPTION_KEYS=new.decode())).app_context():
        with pytest.raises(ValueError, match="cannot be decrypted"):
            secrets.decrypt(old_token)


@pytest.mark.parametrize("given,missing", [
    ({}, "set SECRET_KEY and OPTINTEL_ENCRYPTION_KEYS in the environment"),
    ({"SECRET_KEY": "a given secret key"}, "set OPTINTEL_ENCRYPTION_KEYS in the environment"),
    ({"OPTINTEL_ENCRYPTION_KEYS": Fernet.generate_key().decode()},
     "set SECRET_KEY in the environment"),
    ({"OPTINTEL_ENCRYPTION_KEY": Fernet.generate_key().decode()},
     "set SECRET_KEY in the environment"),
])
def test_a_postgresql_database_without_keys_given_refuses_to_start(tmp_path, given, missing):
    settings = {"SQLALCHEMY_DATABASE_URI": POSTGRES.format(port=free_port()), **given}
    with pytest.raises(KeySetupError) as refused:
        create_app(config(tmp_path, **settings))
    assert "DATABASE_URL names a postgresql database" in refused.value.message
    assert missing in refused.value.message
    assert not (tmp_path / "instance").exists()


def test_a_postgresql_database_with_keys_given_starts_without_connecting(tmp_path):
    app = create_app(config(tmp_path, SQLALCHEMY_DATABASE_URI=POSTGRES.format(port=free_port()),
                            SECRET_KEY="a given secret key",
                            OPTINTEL_ENCRYPTION_KEYS=Fernet.generate_key().decode()))
    assert app.secret_key == "a given secret key"
    assert key_files(tmp_path / "instance") == {}


def test_flask_commands_show_the_refusal_without_a_traceback(tmp_path):
    env = default_env(tmp_path, DATABASE_URL=f"postgresql://optintel@127.0.0.1:{free_port()}/x")
    for command in (("db", "upgrade"), ("worker",), ("secrets", "rotate")):
        refused = flask(env, *command)
        assert refused.returncode == 1, command
        assert refused.stderr.startswith("Error: DATABASE_URL names a postgresql database"), \
            refused.stderr
        assert "set SECRET_KEY and OPTINTEL_ENCRYPTION_KEYS" in refused.stderr
        assert "Traceback" not in refused.stderr
    assert not (tmp_path / "instance").exists()


def test_gunicorn_shows_the_refusal_and_stops(tmp_path):
    env = default_env(tmp_path, DATABASE_URL=f"postgresql://optintel@127.0.0.1:{free_port()}/x")
    server = subprocess.Popen([sys.executable, "-m", "gunicorn", "--bind",
                               f"127.0.0.1:{free_port()}", "--workers", "2", "app:app"],
                              cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              text=True)
    try:
        output, _ = server.communicate(timeout=60)
    finally:
        server.kill()
    assert server.returncode != 0
    assert "DATABASE_URL names a postgresql database" in output
    assert "set SECRET_KEY and OPTINTEL_ENCRYPTION_KEYS in the environment" in output


@pytest.mark.parametrize("settings,message", [
    ({"OPTINTEL_ENCRYPTION_KEYS": "not-a-key"}, "Key 1 of OPTINTEL_ENCRYPTION_KEYS is not a "
                                                "Fernet key"),
    ({"OPTINTEL_ENCRYPTION_KEYS": f"{Fernet.generate_key().decode()},short"},
     "Key 2 of OPTINTEL_ENCRYPTION_KEYS is not a Fernet key"),
    ({"OPTINTEL_ENCRYPTION_KEY": "not-a-key"}, "Key 1 of OPTINTEL_ENCRYPTION_KEY is not"),
    ({"OPTINTEL_ENCRYPTION_KEYS": " , "}, "OPTINTEL_ENCRYPTION_KEYS holds no encryption key"),
    ({"OPTINTEL_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
      "OPTINTEL_ENCRYPTION_KEY": Fernet.generate_key().decode()},
     "Set OPTINTEL_ENCRYPTION_KEYS (every key, newest first) or OPTINTEL_ENCRYPTION_KEY"),
])
def test_unusable_keys_refuse_to_start(tmp_path, settings, message):
    with pytest.raises(KeySetupError, match=message.replace("(", r"\(").replace(")", r"\)")):
        create_app(config(tmp_path, **settings))


def test_a_key_file_that_others_may_read_refuses_to_start(tmp_path):
    create_app(config(tmp_path))
    path = tmp_path / "instance" / "secret_key"
    path.chmod(0o644)
    with pytest.raises(KeySetupError, match=f"{path} may be read by other users"):
        create_app(config(tmp_path))


def test_an_empty_key_file_refuses_to_start(tmp_path):
    create_app(config(tmp_path))
    (tmp_path / "instance" / "encryption_keys").write_text("\n")
    with pytest.raises(KeySetupError, match="encryption_keys is empty"):
        create_app(config(tmp_path))


def test_the_instance_folder_follows_optintel_instance(tmp_path):
    """OPTINTEL_INSTANCE moves the instance folder, the default SQLite database with it."""
    script = "from optintel.config import Config; print(Config.SQLALCHEMY_DATABASE_URI)"
    env = {k: v for k, v in default_env(tmp_path).items() if k != "DATABASE_URL"}
    found = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env,
                           capture_output=True, text=True, timeout=60, check=True)
    assert found.stdout.strip() == f"sqlite:///{tmp_path / 'instance' / 'optintel.db'}"
    assert not (tmp_path / "instance").exists()  # reading the configuration writes nothing
