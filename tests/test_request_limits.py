"""What a request may hold: JSON nested at most so deep, no NaN nor Infinity, a body of at most
MAX_CONTENT_LENGTH bytes, at most so many ids in a list; and what an answer echoes back of bad
input: the first 100 invalid values and how many there were in all."""
import re

import pytest

DEEP = 33  # one level past the limit
PING = {"action": "ping_url", "action_settings": {"url": "http://127.0.0.1:9/hook"}}
NEW_MAILER = {"company_name": "A", "nickname": "a", "email": "a@example.com"}


def raw(api, method, path, text):
    return api.request(method, path, data=text, content_type="application/json")


def error_of(response, status):
    assert response.status_code == status, response.get_data(as_text=True)[:500]
    assert response.is_json
    return response.json["error"]


@pytest.mark.parametrize("depth", [DEEP, 1000, 100_000])
def test_json_nested_too_deep_is_400(api, depth):
    text = '{"company_name": ' + "[" * depth + "]" * depth + "}"
    error = error_of(raw(api, "POST", "/mailers", text), 400)
    assert error["code"] == "bad_request"
    assert "deep" in error["message"]


def test_json_nested_deep_inside_action_settings_is_400(api):
    nested = "1"
    for _ in range(DEEP):
        nested = '{"a": ' + nested + "}"
    text = ('{"level": "project", "trigger": "contact_added", "action": "ping_url", '
            '"action_settings": {"url": "http://example.com", "headers": ' + nested + "}}")
    assert error_of(raw(api, "POST", "/tracking-rules", text), 400)["code"] == "bad_request"


def test_json_at_the_depth_limit_is_read(api):
    text = '{"company_name": ' + "[" * (DEEP - 2) + "]" * (DEEP - 2) + "}"
    error = error_of(raw(api, "POST", "/mailers", text), 422)
    assert "company_name" in error["fields"]


@pytest.mark.parametrize("number", ["NaN", "Infinity", "-Infinity", "1e400", "-1e999"])
def test_nan_and_infinity_are_refused(api, make_list, number):
    email_list = make_list()
    for path, text in [
        ("/mailers", '{"company_name": "A", "nickname": "a", "email": "a@example.com", '
                     '"notes": ' + number + "}"),
        (f"/email-lists/{email_list.id}/emails-add", '{"emails": [' + number + "]}"),
        (f"/email-lists/{email_list.id}/emails-add", '{"emails": ["a@example.com"], '
                                                     '"mailer_id": ' + number + "}"),
        ("/tracking-rules", '{"level": "project", "trigger": "contact_added", '
                            '"action": "ping_url", "action_settings": {"url": '
                            '"http://example.com", "timeout": ' + number + "}}"),
    ]:
        error = error_of(raw(api, "POST", path, text), 400)
        assert error["code"] == "bad_request"


def test_an_integer_past_the_digit_limit_of_python_is_400_not_500(api, make_list):
    email_list = make_list()
    text = '{"emails": ["a@example.com"], "mailer_id": 1' + "0" * 5000 + "}"
    assert error_of(raw(api, "POST", f"/email-lists/{email_list.id}/emails-add", text),
                    400)["code"] == "bad_request"


def test_the_default_body_limit_is_2_mb(app):
    assert app.config["MAX_CONTENT_LENGTH"] == 2 * 1024 * 1024


def test_an_api_body_over_the_limit_is_413_json(api, make_list):
    email_list = make_list()
    emails = [f"someone{n}@example.com" for n in range(100_000)]  # about 2.6 MB
    error = error_of(api.post(f"/email-lists/{email_list.id}/emails-add", {"emails": emails}),
                     413)
    assert error["code"] == "too_large"
    assert "2 MB" in error["message"] or "2,097,152" in error["message"]


def test_a_form_over_the_limit_is_a_413_page(as_admin, make_list):
    email_list = make_list()
    response = as_admin.post_form(f"/lists/email/{email_list.id}/contacts",
                                  {"value": "x" * (3 * 1024 * 1024)})
    assert response.status_code == 413
    assert "413" in response.get_data(as_text=True)


def test_the_body_limit_is_a_setting(app_config, request):
    app_config.MAX_CONTENT_LENGTH = 1000
    api = request.getfixturevalue("api")
    assert error_of(api.post("/mailers", {**NEW_MAILER, "notes": "x" * 2000}), 413)
    assert api.post("/mailers", NEW_MAILER).status_code == 201


# ---- What is echoed back --------------------------------------------------------------------

def test_at_most_100_invalid_contacts_are_echoed_with_their_count(api, make_list):
    email_list = make_list()
    bad = [f"not an address {n}" for n in range(9_999)]  # and one good: a batch of 10,000
    body = api.post(f"/email-lists/{email_list.id}/emails-add",
                    {"emails": ["good@example.com", *bad]}).json
    assert body["added"] == 1
    assert body["invalid_count"] == 9_999
    assert [item["value"] for item in body["invalid"]] == bad[:100]
    removed = api.post(f"/email-lists/{email_list.id}/emails-remove", {"emails": bad}).json
    assert removed["invalid_count"] == 9_999 and len(removed["invalid"]) == 100


def test_no_invalid_contact_is_a_count_of_zero(api, make_list):
    email_list = make_list()
    body = api.post(f"/email-lists/{email_list.id}/emails-add", {"emails": ["a@example.com"]}).json
    assert body["invalid"] == [] and body["invalid_count"] == 0


def test_per_item_messages_of_a_large_batch_are_capped_with_their_count(api):
    error = error_of(api.post("/email-campaigns", {"name": "C", "list_ids": ["x"] * 1000}), 422)
    lines = error["fields"]["list_ids"]
    assert len(lines) == 101
    assert lines[0] == "0: Not a valid integer."
    assert "1,000 in all" in lines[-1]


def _numbers_in(message):
    return re.findall(r"\d+", message.replace(",", ""))


@pytest.mark.parametrize("path,body,field", [
    ("/email-campaigns", {"name": "C", "list_ids": list(range(10**6, 10**6 + 500))}, "list_ids"),
    ("/email-campaigns", {"name": "C", "mailer_ids": list(range(10**6, 10**6 + 500))},
     "mailer_ids"),
    ("/email-lists", {"name": "G", "type": "grouped", "members": list(range(10**6, 10**6 + 500))},
     "members"),
    ("/tracking-rules", {"level": "project", "trigger": "contact_added", **PING,
                         "trigger_settings": {"contact_list_ids": list(range(10**6, 10**6 + 500))}},
     "trigger_settings.contact_list_ids"),
])
def test_missing_ids_named_in_a_message_are_capped_with_their_count(api, path, body, field):
    [message] = error_of(api.post(path, body), 422)["fields"][field]
    assert str(10**6) in message and str(10**6 + 99) in message
    assert str(10**6 + 100) not in message
    assert "500 in all" in message


@pytest.mark.parametrize("path,body,field", [
    ("/email-campaigns", {"name": "C", "list_ids": [1] * 300_000}, "list_ids"),
    ("/email-lists", {"name": "G", "type": "grouped", "members": [1] * 300_000}, "members"),
    ("/tracking-rules", {"level": "project", "trigger": "contact_added", **PING,
                         "trigger_settings": {"mailer_ids": [1] * 300_000}}, "trigger_settings"),
])
def test_too_many_ids_in_a_list_are_422(api, path, body, field):
    fields = error_of(api.post(path, body), 422)["fields"]
    assert field in fields


def test_too_many_ids_in_a_form_are_shown_beside_the_field(as_admin, make_list, field_errors):
    single = make_list()
    response = as_admin.post_form("/campaigns/email/new", {
        "name": "C", "status": "active", "list_ids": [str(single.id)] * 20_000})
    assert response.status_code == 200
    assert field_errors(response.get_data(as_text=True)).get("list_ids")


# ---- NUL characters, which PostgreSQL cannot store -------------------------------------------

NUL_MESSAGE = "Text may not contain the NUL character (U+0000)."


@pytest.mark.parametrize("path,body", [
    ("/mailers", {**NEW_MAILER, "company_name": "A\x00B"}),
    ("/mailers", {**NEW_MAILER, "n\x00otes": "x"}),
    ("/email-lists", {"name": "x\x00"}),
    ("/email-campaigns", {"name": "C", "list_ids": [], "status": "active\x00"}),
    ("/tracking-rules", {"level": "project", "trigger": "contact_added", "action": "ping_url",
                         "action_settings": {"url": "http://127.0.0.1:9/", "body": "a\x00"}}),
])
def test_a_nul_in_a_json_text_is_400(api, path, body):
    error = error_of(api.post(path, body), 400)
    assert error == {"code": "bad_request", "message": NUL_MESSAGE}


def test_a_nul_in_a_contact_is_400(api, make_list):
    email_list = make_list()
    response = api.post(f"/email-lists/{email_list.id}/emails-add", {"emails": ["a\x00@b.com"]})
    assert error_of(response, 400)["message"] == NUL_MESSAGE


@pytest.mark.parametrize("query", [{"host": "a\x00b"}, {"contact": "a\x00@example.com"},
                                   {"status\x00": "failed"}])
def test_a_nul_in_a_query_string_is_400(api, as_admin, query):
    assert error_of(api.get("/tracking-log", query_string=query), 400)["message"] == NUL_MESSAGE
    page = as_admin.get("/logs/", query_string=query)
    assert page.status_code == 400 and "U+0000" in page.get_data(as_text=True)


def test_a_nul_in_a_form_is_400(as_admin):
    response = as_admin.post_form("/mailers/new", {"company_name": "A\x00", "nickname": "a",
                                                   "email": "a@example.com"})
    assert response.status_code == 400
    assert "U+0000" in response.get_data(as_text=True)


def test_a_nul_in_a_header_is_400(app, api_key):
    _, key = api_key()
    response = app.test_client().get("/api/v1/mailers",
                                     headers={"Authorization": f"Bearer {key}\x00"})
    assert error_of(response, 400)["message"] == NUL_MESSAGE
