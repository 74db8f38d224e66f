"""The suite-wide log check, a pytest plugin (tests/conftest.py loads it).

During the whole run every log record of the test process (root logger, DEBUG) goes to a file
under the session's temporary directory, where the worker processes and the web server that
tests start write theirs too (their log level is DEBUG as well). Every secret the tests store
(what optintel.secrets.encrypt is given, users' passwords, API keys) and every contact added to
or deleted from an MD5-only list is remembered. When the session ends, any of them found in any
of those logs fails the run, naming which value (masked) leaked where."""
import ast
import json
import logging
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote, quote_plus

import pytest

# Shorter values would be found by chance in any log.
MIN_LENGTH = 6
LOG_FILES = "*.log"
SECRET, CONTACT = "secret", "MD5-only contact"


@dataclass
class Recorded:
    """The values that no log may hold, by kind ("secret", "MD5-only contact")."""

    values: dict = field(default_factory=dict)

    def add(self, value, kind):
        if isinstance(value, str) and len(value.strip()) >= MIN_LENGTH:
            self.values.setdefault(value.strip(), kind)

    def add_secret(self, text):
        """A secret as given to encrypt: plain text, or JSON whose every string is a secret."""
        self.add(text, SECRET)
        try:
            parsed = json.loads(text)
        except (TypeError, ValueError):
            return
        for leaf in _strings(parsed):
            self.add(leaf, SECRET)


RECORDED = Recorded()


def _strings(value):
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


@dataclass(frozen=True)
class Leak:
    kind: str
    masked: str
    path: Path
    line: int

    def __str__(self):
        return f"{self.kind} {self.masked} in {self.path} line {self.line}"


def mask(value):
    """Enough of a value to recognise it in the tests, not to use it."""
    return value[:2] + "*" * (len(value) - 2)


def _pattern(value, kind):
    """A regular expression of the ways a value can be written in a log line (lower-cased): as
    is and URL-encoded. A contact must stand alone: b@example.com is not in bob@example.com."""
    forms = "|".join(re.escape(form.lower()) for form in
                     sorted({value, quote(value, safe=""), quote_plus(value)}, key=len))
    if kind != CONTACT:
        return re.compile(forms)
    return re.compile(rf"(?<![a-z0-9._+-])(?:{forms})(?![a-z0-9_-]|\.[a-z0-9])")


def find_leaks(values, paths):
    """The Leaks of `values` ({value: kind}) in the files at `paths`, one per value and file."""
    patterns = {value: _pattern(value, kind) for value, kind in values.items()}
    leaks = []
    for path in paths:
        text = Path(path).read_text(errors="replace").lower()
        for value, kind in values.items():
            found = patterns[value].search(text)
            if found:
                line = text.count("\n", 0, found.start()) + 1
                leaks.append(Leak(kind, mask(value), Path(path), line))
    return leaks


def _product_words(root=Path(__file__).resolve().parent.parent / "optintel"):
    """The string constants of the product's source, lower-cased."""
    words = set()
    for path in root.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                words.add(node.value.strip().lower())
    return words


def to_look_for(values):
    """The recorded values ({value: kind}) that the check looks for: not those that are the
    product's own text. Hypothesis offers a module's constants as generated values, so the API
    schema test may store "Attempt" as a secret; that word in a log is the product's."""
    words = _product_words()
    return {value: kind for value, kind in values.items() if value.lower() not in words}


def report(leaks):
    """The message that fails the run."""
    return ("Secrets or MD5-only contacts reached a log (value masked, file, line):\n"
            + "\n".join(f"  {leak}" for leak in leaks))


# ---- Recording what the tests store --------------------------------------------------------

def _wrap(owner, name, after):
    """Replace owner.name by a function that calls it, then after(result, *args)."""
    original = getattr(owner, name)

    def wrapper(*args, **kwargs):
        result = original(*args, **kwargs)
        after(result, *args, **kwargs)
        return result
    wrapper.__wrapped__ = original
    setattr(owner, name, wrapper)


def _record_md5_only_contacts(wanted, opt_out_list, raw_values, outcome):
    from optintel.models import Storage
    if opt_out_list.storage == Storage.MD5:
        for value in [*raw_values, *wanted.values()]:
            RECORDED.add(value, CONTACT)


def start_recording():
    """Wrap the product's functions that receive secrets and the contacts of lists."""
    from optintel import contact_changes, secrets
    from optintel.models import ApiKey, User

    _wrap(secrets, "encrypt", lambda token, text: RECORDED.add_secret(text))
    _wrap(User, "set_password", lambda _, user, password: RECORDED.add(password, SECRET))
    _wrap(ApiKey, "set_new_key", lambda key, row: RECORDED.add(key, SECRET))
    # _normalized(list, raw values, outcome, ...) -> {md5: value}: the one way in of typed
    # contacts, from a form, the API or a file.
    original = contact_changes._normalized

    def normalized(opt_out_list, raw_values, outcome, *args, **kwargs):
        raw_values = list(raw_values)
        wanted = original(opt_out_list, raw_values, outcome, *args, **kwargs)
        _record_md5_only_contacts(wanted, opt_out_list, raw_values, outcome)
        return wanted
    contact_changes._normalized = normalized


# ---- The hooks -----------------------------------------------------------------------------

_state = {}


def pytest_configure(config):
    # Processes the tests start (workers, the web server) log at DEBUG too.
    os.environ["OPTINTEL_LOG_LEVEL"] = "DEBUG"
    start_recording()


class ProductOnly(logging.Filter):
    """The records of the product, not of the test peers that stand for other systems: the
    aiosmtpd server of the tests logs each message it receives, as a mail server may."""

    PEERS = ("mail.log",)

    def filter(self, record):
        return not record.name.startswith(self.PEERS)


@pytest.fixture(scope="session", autouse=True)
def capture_the_log(tmp_path_factory):
    """Every record of the test process, DEBUG and up, into a file of the session's
    temporary directory (which the check at the end reads, with the workers' logs); the test
    peers' own records are left out."""
    _state["root"] = tmp_path_factory.getbasetemp()
    handler = logging.FileHandler(tmp_path_factory.mktemp("log-guard") / "test-process.log")
    handler.setLevel(logging.DEBUG)
    handler.addFilter(ProductOnly())
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    _state["handler"] = handler
    yield
    handler.flush()


def pytest_sessionfinish(session, exitstatus):
    if "root" not in _state:
        return
    _state["handler"].flush()
    paths = sorted(_state["root"].rglob(LOG_FILES))
    leaks = find_leaks(to_look_for(RECORDED.values), paths)
    _state["leaks"], _state["files"] = leaks, len(paths)
    if leaks and session.exitstatus == pytest.ExitCode.OK:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter):
    leaks = _state.get("leaks")
    if leaks:
        terminalreporter.section("log check", sep="=", red=True, bold=True)
        terminalreporter.line(report(leaks), red=True)
    elif "root" in _state:
        terminalreporter.line(f"log check: none of {len(RECORDED.values)} secrets and MD5-only "
                              f"contacts in {_state['files']} log files")
