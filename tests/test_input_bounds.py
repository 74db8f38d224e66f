"""Integers out of range anywhere in a request — path, query string, JSON body, form — are a
404 or a 4xx naming the field, never a 500 (SQLite refuses integers beyond 64 bits; PostgreSQL's
id columns are INTEGER, 32 bits, and a larger parameter is an error). The routes and API
parameters are read from the app itself, so that new ones are covered without a change."""
import re

import pytest
import sqlalchemy as sa
from werkzeug.routing import IntegerConverter

from optintel.extensions import db
from optintel.models import ActionType, ApiKey, ListKind, Role
from url_map import APP, DOCUMENT, PAGE_GETS, path_of

# 2**31 (past PostgreSQL's INTEGER), 2**63 (past SQLite's), 30 digits, past Python's int limit.
TOO_BIG = ["2147483648", "9223372036854775808", "9" * 30, "9" * 5000]
# Also not an id: "²" is a digit to str.isdigit() but not to int().
NOT_IDS = [*TOO_BIG, "²", "-2147483649"]
# Query arguments that name an id or a position somewhere in the pages.
PAGE_QUERY_INTEGERS = ("after", "before", "after_id", "adjacent_to", "list_id", "mailer_id",
                       "campaign_id", "rule_id", "scope_id", "event_id", "user_id", "limit")


def _send(as_admin, api, method, path, **kwargs):
    """The request as the page or the API client of a Global Admin sends it."""
    if path.startswith("/api/v1/"):
        return api.request(method, path[len("/api/v1"):], **kwargs)
    if method == "GET":
        return as_admin.get(path, **kwargs)
    return as_admin.post_form(path, kwargs.pop("data", {}), **kwargs)


@pytest.mark.parametrize("rule", [rule for rule in APP.url_map.iter_rules() if any(
    isinstance(c, IntegerConverter) for c in rule._converters.values())], ids=lambda r: r.rule)
def test_an_id_out_of_range_in_a_path_is_404(as_admin, api, rule):
    answers = {}
    for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
        for value in TOO_BIG:
            response = _send(as_admin, api, method, path_of(rule, lambda name: value))
            answers[method, value[:25]] = response.status_code
            if rule.rule.startswith("/api/") and response.status_code == 404:
                assert response.json["error"]["code"] == "not_found"
    assert set(answers.values()) == {404}, answers


def test_the_largest_id_in_a_path_is_an_ordinary_404(as_admin, api):
    largest = 2**31 - 1
    assert as_admin.get(f"/lists/email/{largest}/edit").status_code == 404
    assert api.get(f"/email-lists/{largest}").status_code == 404
    assert api.get(f"/tracking-rules/{largest}").status_code == 404


@pytest.fixture
def world(app, admin, make_list, make_campaign, make_mailer, make_rule, api_key):
    """One object of each kind, and the value of each id of a page's path that names it."""
    email_list = make_list()
    mailer = make_mailer()
    campaign = make_campaign(mailers=[mailer], lists=[email_list])
    rule_id = make_rule("add_to_list", {"list_id": email_list.id})
    user, _ = api_key(role=Role.LIST_OWNER)
    key_id = db.session.scalar(sa.select(ApiKey.id).where(ApiKey.user_id == user.id))
    return {"list_id": email_list.id, "campaign_id": campaign.id, "mailer_id": mailer.id,
            "user_id": user.id, "key_id": key_id, "rule_id": rule_id, "scope_id": 0,
            "delivery_id": 1, "run_id": 1, "import_id": 1}


@pytest.mark.parametrize("rule", PAGE_GETS, ids=lambda rule: rule.rule)
def test_integers_out_of_range_in_a_page_query_are_not_a_500(as_admin, world, rule):
    path = path_of(rule, lambda name: world[name])
    answers = {value[:25]: as_admin.get(path, query_string={
        name: value for name in PAGE_QUERY_INTEGERS}).status_code for value in NOT_IDS}
    assert max(answers.values()) < 500, answers


def test_a_log_filter_out_of_range_is_shown_beside_its_field(as_admin, field_errors):
    for name in ("list_id", "mailer_id", "campaign_id", "rule_id", "scope_id"):
        for value in NOT_IDS:
            response = as_admin.get("/logs/", query_string={name: value})
            assert response.status_code == 200, (name, value[:25])
            assert field_errors(response.get_data(as_text=True)).get(name), (name, value[:25])


def _resolve(document, schema):
    while "$ref" in schema:
        schema = document["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    return schema


def _operations(document):
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if method != "parameters":
                yield path, method, {**operation, "parameters": item.get("parameters", []) +
                                     operation.get("parameters", [])}


def _integer_query_params():
    return [(path, method, p["name"]) for path, method, op in _operations(DOCUMENT)
            for p in op["parameters"] if p["in"] == "query" and p["schema"].get("type") == "integer"]


def _integer_body_fields():
    """(path, method, body) with one integer of the documented request body set out of range,
    nested objects included: each integer, and each list of integers."""
    doc, found = DOCUMENT, []

    def walk(schema, make, where):
        for name, prop in _resolve(doc, schema).get("properties", {}).items():
            prop = _resolve(doc, prop)
            if prop.get("readOnly"):
                continue
            if prop.get("type") == "integer":
                found.append((where + name, make({name: 2**31})))
            elif prop.get("type") == "array" and _resolve(doc, prop["items"]).get("type") == "integer":
                found.append((where + name, make({name: [1, 2**31]})))
            elif prop.get("type") == "object" and "properties" in prop:
                walk(prop, lambda inner, name=name: make({name: inner}), where + name + ".")
    for path, method, operation in _operations(doc):
        body = operation.get("requestBody", {}).get("content", {}).get("application/json")
        if body:
            before = len(found)
            walk(body["schema"], lambda inner: inner, "")
            found[before:] = [(path, method, name, value) for name, value in found[before:]]
    return found


@pytest.mark.parametrize("path,method,name", _integer_query_params(),
                         ids=lambda x: x if isinstance(x, str) else None)
def test_an_api_query_integer_out_of_range_is_422_naming_it(api, world, path, method, name):
    path = re.sub(r"\{(\w+)\}", lambda m: str(world.get(m.group(1), 1)), path)
    for value in NOT_IDS:
        response = api.request(method, path[len("/api/v1"):], query_string={name: value})
        assert response.status_code == 422, (value[:25], response.get_data(as_text=True)[:500])
        assert name in response.json["error"]["fields"]


BODY_FIELDS = _integer_body_fields()


@pytest.mark.parametrize("path,method,name,body", BODY_FIELDS,
                         ids=[f"{m} {p} {n}" for p, m, n, _ in BODY_FIELDS])
def test_an_api_body_integer_out_of_range_is_422_naming_it(api, world, path, method, name, body):
    path = re.sub(r"\{(\w+)\}", lambda m: str(world.get(m.group(1), 1)), path)
    response = api.request(method, path[len("/api/v1"):], json=body)
    assert response.status_code == 422, response.get_data(as_text=True)[:500]
    fields = response.json["error"]["fields"]
    top = name.split(".")[0]
    assert top in fields, fields
    assert name.split(".")[-1] in " ".join([top, *fields[top]])


def _schemas_of(operation):
    """The schemas of an operation's parameters, request body and responses."""
    yield from (parameter["schema"] for parameter in operation["parameters"])
    answers = [DOCUMENT["components"]["responses"][r["$ref"].rsplit("/", 1)[1]] if "$ref" in r
               else r for r in operation["responses"].values()]
    for part in [operation.get("requestBody", {}), *answers]:
        yield from (media["schema"] for media in part.get("content", {}).values()
                    if "schema" in media)


def _integers(schema):
    schema = _resolve(DOCUMENT, schema)
    if schema.get("type") == "integer":
        yield schema
    for sub in [*schema.get("properties", {}).values(), schema.get("items"),
                schema.get("additionalProperties")]:
        if isinstance(sub, dict):
            yield from _integers(sub)


def test_the_api_documents_the_range_of_its_integers():
    """Clients (and schemathesis) learn the range from the document."""
    found = [integer for _, _, operation in _operations(DOCUMENT)
             for schema in _schemas_of(operation) for integer in _integers(schema)]
    assert len(found) > 50
    for schema in found:
        assert schema.get("maximum", 2**31) <= 2**31 - 1, schema
        assert schema.get("minimum", -2**32) >= -2**31, schema


@pytest.mark.parametrize("list_id", [2**31, 2**63, "9223372036854775808", "²", 10**30])
def test_a_target_list_out_of_range_in_action_settings_is_422(api, list_id):
    response = api.post("/tracking-rules", {"level": "project", "trigger": "contact_added",
                                            "action": "add_to_list",
                                            "action_settings": {"list_id": list_id}})
    assert response.status_code == 422, response.get_data(as_text=True)[:500]
    assert "action_settings.list_id" in response.json["error"]["fields"]


def test_contact_origins_out_of_range_are_422(api, make_list):
    email_list = make_list()
    response = api.post(f"/email-lists/{email_list.id}/emails-add",
                        {"emails": ["a@example.com"], "mailer_id": 2**31, "campaign_id": 2**64})
    assert response.status_code == 422
    assert set(response.json["error"]["fields"]) == {"mailer_id", "campaign_id"}


FORM_VALUES = [TOO_BIG[0], TOO_BIG[2], "²"]


# ---- Forms of the pages -------------------------------------------------------------------

@pytest.mark.parametrize("value", FORM_VALUES, ids=["2**31", "30 digits", "²"])
def test_list_form_ids_out_of_range_are_shown_beside_their_fields(as_admin, field_errors, value):
    response = as_admin.post_form("/lists/email/new", {"name": "G", "type": "grouped",
                                                        "storage": "plain_md5", "status": "active",
                                                        "owner_id": value, "members": [value]})
    assert response.status_code == 200
    errors = field_errors(response.get_data(as_text=True))
    assert errors.get("owner_id") and errors.get("members"), errors


@pytest.mark.parametrize("value", FORM_VALUES, ids=["2**31", "30 digits", "²"])
def test_campaign_form_ids_out_of_range_are_shown_beside_their_fields(as_admin, field_errors,
                                                                      value):
    response = as_admin.post_form("/campaigns/email/new", {
        "name": "C", "status": "active", "manager_id": value, "mailer_ids": [value],
        "list_ids": [value]})
    assert response.status_code == 200
    errors = field_errors(response.get_data(as_text=True))
    assert errors.get("manager_id") and errors.get("mailer_ids") and errors.get("list_ids"), errors


@pytest.mark.parametrize("value", FORM_VALUES, ids=["2**31", "30 digits", "²"])
def test_contact_form_origins_out_of_range_are_shown_beside_their_fields(as_admin, make_list,
                                                                         field_errors, value):
    email_list = make_list()
    response = as_admin.post_form(f"/lists/email/{email_list.id}/contacts", {
        "value": "a@example.com", "mailer_id": value, "campaign_id": value})
    assert response.status_code == 200
    errors = field_errors(response.get_data(as_text=True))
    assert errors.get("mailer_id") and errors.get("campaign_id"), errors


@pytest.mark.parametrize("value", FORM_VALUES, ids=["2**31", "30 digits", "²"])
def test_api_key_form_user_out_of_range_is_shown_beside_its_field(as_admin, field_errors, value):
    response = as_admin.post_form("/api-keys/new", {"user_id": value, "name": "k"})
    assert response.status_code == 200
    assert field_errors(response.get_data(as_text=True)).get("user_id")


@pytest.mark.parametrize("value", FORM_VALUES, ids=["2**31", "30 digits", "²"])
@pytest.mark.parametrize("fields", [("contact_list_ids", "mailer_ids"), ("list_id",)])
def test_rule_dialog_ids_out_of_range_are_shown_beside_their_fields(as_admin, make_list,
                                                                    field_errors, value, fields):
    make_list()
    response = as_admin.htmx("POST", "/tracking/project/0/rules", data={
        "trigger": "contact_added", "action": ActionType.ADD_TO_LIST.value,
        **{name: value for name in fields}})
    assert response.status_code == 200
    errors = field_errors(response.get_data(as_text=True))
    assert all(errors.get(name) for name in fields), errors


def test_grouped_members_out_of_range_through_the_api_are_422(api, make_list):
    make_list(kind=ListKind.SINGLE)
    response = api.post("/email-lists", {"name": "G", "type": "grouped",
                                         "members": ["9223372036854775808"]})
    assert response.status_code == 422
    assert "members" in response.json["error"]["fields"]


# ---- The command line ----------------------------------------------------------------------

@pytest.mark.parametrize("extra", [[], ["--mailer-id"], ["--campaign-id"]])
def test_lists_import_refuses_an_id_out_of_range(app, make_list, tmp_path, extra):
    values = tmp_path / "values.txt"
    values.write_text("a@example.com\n")
    list_id = TOO_BIG[0] if not extra else str(make_list().id)
    result = app.test_cli_runner().invoke(args=["lists", "import", list_id, str(values),
                                                *extra, *[TOO_BIG[0]] * len(extra)])
    assert result.exit_code == 2, result.output
    assert "is not in the range" in result.output


@pytest.mark.parametrize("delay", [TOO_BIG[0], TOO_BIG[3]])
def test_a_retry_delay_out_of_range_is_shown_beside_its_field(as_admin, field_errors, delay):
    response = as_admin.post_form("/settings/opt-intel/settings", {
        "default_phone_region": "US", "smtp_port": "587", "smtp_security": "none",
        "retry_schedule": f"0, {delay}"})
    assert response.status_code == 200
    assert field_errors(response.get_data(as_text=True))["retry_schedule"] == [
        "Each delay is at most 172,800 seconds (2 days)."]


# ---- Days of the Tracking Log's filter -----------------------------------------------------

@pytest.mark.parametrize("name,day", [("date_to", "9999-12-31"), ("date_from", "0001-01-01"),
                                      ("date_from", "1999-12-31")])
def test_a_day_out_of_range_is_shown_beside_its_filter(as_admin, api, field_errors, name, day):
    response = as_admin.get("/logs/", query_string={name: day})
    assert response.status_code == 200
    assert field_errors(response.get_data(as_text=True))[name] == [DAYS_MESSAGE]
    response = api.get("/tracking-log", query_string={name: day})
    assert response.status_code == 422
    assert response.json["error"]["fields"] == {name: [DAYS_MESSAGE]}


DAYS_MESSAGE = "Give a day from 2000-01-01 to 9998-12-31."


def test_the_chart_of_a_long_range_has_the_days_the_log_can_keep(app, admin):
    from optintel.tracking_log.chart import chart
    from optintel.tracking_log.filters import LogFilter
    result = chart(admin, LogFilter.from_args({"date_from": "2000-01-01",
                                               "date_to": "2099-12-31"}))
    assert len(result.buckets) == 3660
    assert result.buckets[-1][0].date().isoformat() == "2099-12-31"


@pytest.mark.parametrize("query", ["_method=POST", "endpoint=x", "_external=1", "_anchor=x",
                                   "_scheme=javascript&_external=1"])
def test_query_arguments_named_as_url_for_options_are_plain_arguments(as_admin, query):
    response = as_admin.get("/logs/?" + query, headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert response.headers["HX-Push-Url"] == "/logs/?" + query
