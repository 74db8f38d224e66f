"""Helpers of the key tests: the configuration and the environment of an install with no key
given, and `flask` run in a process of its own."""
import os
import subprocess
import sys

from optintel.config import Config
from tests.conftest import ROOT

KEY_VARIABLES = ("SECRET_KEY", "OPTINTEL_ENCRYPTION_KEY", "OPTINTEL_ENCRYPTION_KEYS")


def default_env(folder, **settings):
    """The environment of a default install kept in `folder`: SQLite, no key variable at all."""
    env = {name: value for name, value in os.environ.items() if name not in KEY_VARIABLES}
    env.update(FLASK_APP="app.py", DATABASE_URL=f"sqlite:///{folder / 'optintel.db'}",
               OPTINTEL_INSTANCE=str(folder / "instance"), PYTHONUNBUFFERED="1")
    env.update(settings)
    return env


def flask(env, *args):
    """Run `flask ARGS...` from the repository root; the finished process."""
    return subprocess.run([sys.executable, "-m", "flask", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)


def config(folder, **settings):
    """The configuration of an install kept in `folder`, with no key given unless in settings."""
    class InstallConfig(Config):
        SQLALCHEMY_DATABASE_URI = f"sqlite:///{folder / 'optintel.db'}"
        OPTINTEL_INSTANCE = str(folder / "instance")
        SECRET_KEY = OPTINTEL_ENCRYPTION_KEYS = OPTINTEL_ENCRYPTION_KEY = None
    for name, value in settings.items():
        setattr(InstallConfig, name, value)
    return InstallConfig
