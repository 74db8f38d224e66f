"""The routes of the app, read from an app of its own when tests are collected, so that tests
parametrized over them cover new routes without a change."""
import re

from optintel import create_app
from optintel.config import TestConfig

APP = create_app(TestConfig)
DOCUMENT = APP.test_client().get("/api/v1/openapi.json").json
PAGE_GETS = [rule for rule in APP.url_map.iter_rules() if "GET" in rule.methods
             and not rule.rule.startswith(("/api/", "/static/"))]
_PLACEHOLDER = re.compile(r"<(?:(\w+)(?:\(([^)]*)\))?:)?(\w+)>")


def path_of(rule, ints):
    """The rule's path with `ints(name)` for each integer and the first choice of each any()."""
    def fill(match):
        converter, arguments, name = match.groups()
        if converter == "any":
            return arguments.split(",")[0].strip()
        if converter == "int":
            return str(ints(name))
        raise AssertionError(f"no value for {match.group(0)} in {rule.rule}")
    return _PLACEHOLDER.sub(fill, rule.rule)
