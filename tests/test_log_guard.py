"""The suite-wide log check can fail: a secret the tests stored, or a contact of an MD5-only
list, that reaches a log is reported by value (masked), file and line, and fails the run."""
import logging
import subprocess
import sys
from pathlib import Path

import pytest

from optintel.models import Storage

from tests.log_guard import RECORDED, SECRET, find_leaks, mask, report, to_look_for

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def isolated_log(tmp_path):
    """A logger of its own writing to a file of its own (not *.log, not the root logger), so
    that what the demonstrations below log does not reach the logs of the suite."""
    path = tmp_path / "isolated.leak"
    logger = logging.getLogger("tests.log_guard.demonstration")
    logger.propagate = False
    handler = logging.FileHandler(path)
    logger.addHandler(handler)
    yield logger, path
    logger.removeHandler(handler)
    handler.close()


def test_a_stored_secret_in_a_log_is_reported(isolated_log, make_rule, http_sink):
    logger, path = isolated_log
    token = "Bearer demo-token-7f3a91"
    make_rule("ping_url", {"method": "GET", "url": http_sink.url + "/hook",
                           "headers": {"Authorization": token}})
    assert RECORDED.values[token] == "secret"
    logger.info("first line, nothing in it")
    logger.info("calling with %s", token)
    [leak] = [leak for leak in find_leaks(RECORDED.values, [path]) if leak.masked == mask(token)]
    assert (leak.kind, leak.path, leak.line) == ("secret", path, 2)
    assert "Be**" in report([leak]) and token not in report([leak])


def test_an_md5_only_contact_in_a_log_is_reported_also_url_encoded(isolated_log, api,
                                                                     make_list):
    logger, path = isolated_log
    hashed, plain = make_list(storage=Storage.MD5), make_list(storage=Storage.PLAIN_MD5)
    response = api.post(f"/email-lists/{hashed.id}/emails-add",
                        {"emails": ["Hidden.One@Example.com"]})
    assert response.status_code == 200, response.json
    assert api.post(f"/email-lists/{plain.id}/emails-add",
                    {"emails": ["shown.one@example.com"]}).status_code == 200
    assert RECORDED.values["hidden.one@example.com"] == "MD5-only contact"
    assert "shown.one@example.com" not in RECORDED.values
    logger.info("GET /lists/email/%s/contacts?q=hidden.one%%40example.com HTTP/1.1", hashed.id)
    leaks = find_leaks(RECORDED.values, [path])
    assert [(leak.kind, leak.line) for leak in leaks] == [("MD5-only contact", 1)] * 2
    assert {leak.masked for leak in leaks} == {mask("hidden.one@example.com"),
                                               mask("Hidden.One@Example.com")}


def test_a_log_without_them_passes(isolated_log):
    logger, path = isolated_log
    logger.info("Dispatched 3 event(s) into 3 delivery(ies)")
    # As the session's check looks: the product's own words are not secrets (to_look_for).
    assert find_leaks(to_look_for(RECORDED.values), [path]) == []


@pytest.mark.parametrize("line, found", [
    ("GET /logs/?contact=b%40example.com HTTP/1.1", True),
    ("added B@Example.com.", True),
    ("<b@example.com>", True),
    ("GET /logs/?contact=bob%40example.com HTTP/1.1", False),
    ("sent to bob@example.com", False),
    ("sent to b@example.community", False),
])
def test_a_contact_is_found_alone_not_inside_another(tmp_path, line, found):
    path = tmp_path / "line.leak"
    path.write_text(line + "\n")
    leaks = find_leaks({"b@example.com": "MD5-only contact"}, [path])
    assert bool(leaks) is found


LEAKING_TEST = '''
import logging

from optintel import create_app, secrets
from optintel.config import TestConfig


def test_that_passes_but_leaks():
    with create_app(TestConfig).app_context():
        secrets.encrypt("inner-secret-4b1d")
    logging.getLogger("leaky").warning("talking to %s", "inner-secret-4b1d")
'''


def test_a_run_whose_log_holds_a_secret_fails(tmp_path):
    """A whole pytest run, with this plugin, of one passing test that logs a secret."""
    (tmp_path / "test_leaking.py").write_text(LEAKING_TEST)
    (tmp_path / "pytest.ini").write_text("[pytest]\n")
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "tests.log_guard", "-p", "no:cacheprovider",
         "--rootdir", str(tmp_path), "-c", str(tmp_path / "pytest.ini"),
         "--basetemp", str(tmp_path / "base"), str(tmp_path / "test_leaking.py")],
        cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert "1 passed" in result.stdout, result.stdout + result.stderr
    assert result.returncode == pytest.ExitCode.TESTS_FAILED
    assert f"secret {mask('inner-secret-4b1d')} in " in result.stdout
    assert "test-process.log line " in result.stdout
    assert "inner-secret-4b1d" not in result.stdout


def test_a_word_of_the_products_own_text_is_not_taken_for_a_secret():
    """Hypothesis offers the product's constants as generated values: "Attempt" stored as a
    secret by the API schema test shows up in any worker's log as the product's own word."""
    assert to_look_for({"Attempt": SECRET, "whsec_not-a-word": SECRET}) == \
        {"whsec_not-a-word": SECRET}
