"""The API's error shapes, authentication and its OpenAPI document."""
import json

import pytest

from optintel.extensions import db
from optintel.models import Role

COLLECTIONS = ["/mailers", "/email-lists", "/phone-lists", "/email-campaigns", "/sms-campaigns",
               "/events"]
NEW_MAILER = {"company_name": "A", "nickname": "a", "email": "a@example.com"}


def error_of(response, status):
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.is_json
    return response.json["error"]


@pytest.mark.parametrize("path", COLLECTIONS)
def test_no_key_is_401(app, path):
    error = error_of(app.test_client().get("/api/v1" + path), 401)
    assert error["code"] == "unauthorized"
    assert "Bearer" in error["message"]


@pytest.mark.parametrize("header", ["Bearer oi_not-a-key", "Basic b2k6b2k=", "Bearer ", "oi_x"])
def test_bad_key_is_401(app, api_key, header):
    api_key()  # a real key exists, just not this one
    response = app.test_client().post("/api/v1/mailers", headers={"Authorization": header},
                                      json=NEW_MAILER)
    assert error_of(response, 401)["code"] == "unauthorized"


def test_key_of_a_deactivated_user_is_401(api_key, api_as, make_user):
    user = make_user(Role.GLOBAL_ADMIN)
    client = api_as(user)
    assert client.get("/mailers").status_code == 200
    user.active = False
    db.session.commit()
    assert error_of(client.get("/mailers"), 401)["code"] == "unauthorized"


def test_session_cookie_alone_is_401(as_admin):
    assert as_admin.get("/").status_code == 200  # logged in, as a browser would be
    for path in COLLECTIONS:
        assert error_of(as_admin.get("/api/v1" + path), 401)["code"] == "unauthorized"
    response = as_admin.post("/api/v1/mailers", headers={"X-CSRFToken": as_admin.csrf},
                             json=NEW_MAILER)
    assert error_of(response, 401)["code"] == "unauthorized"


def test_malformed_json_is_400(api):
    response = api.request("POST", "/mailers", data='{"company_name": ',
                           content_type="application/json")
    error = error_of(response, 400)
    assert error == {"code": "bad_request", "message": "Invalid JSON body."}


@pytest.mark.parametrize("body", [[1, 2], "text", 42, None])
def test_json_that_is_not_an_object_is_422(api, body):
    response = api.request("POST", "/mailers", data=json.dumps(body),
                           content_type="application/json")
    assert error_of(response, 422)["code"] == "invalid"


def test_missing_and_unknown_fields_are_422_by_field(api):
    error = error_of(api.post("/mailers", json={"nickname": "acme", "colour": "red"}), 422)
    assert error["code"] == "invalid"
    assert error["fields"] == {"company_name": ["Missing data for required field."],
                               "email": ["Missing data for required field."],
                               "colour": ["Unknown field."]}


def test_messages_of_list_items_stay_a_list_of_strings(api):
    error = error_of(api.post("/email-lists", json={"name": "G", "type": "grouped",
                                                    "members": [1, "x"]}), 422)
    assert error["fields"] == {"members": ["1: Not a valid integer."]}


def test_unknown_path_and_object_are_404_json(api):
    assert error_of(api.get("/no-such-thing"), 404)["code"] == "not_found"
    assert error_of(api.get("/mailers/999"), 404)["code"] == "not_found"


def test_wrong_method_is_405_json(api):
    assert error_of(api.request("PUT", "/mailers"), 405)["code"] == "method_not_allowed"


@pytest.fixture
def document(app):
    response = app.test_client().get("/api/v1/openapi.json")
    assert response.status_code == 200
    return response.json


def test_openapi_lists_every_path_and_method(document):
    operations = {(path, method) for path, item in document["paths"].items()
                  for method in item if method != "parameters"}
    expected = {("/api/v1/mailers", "get"), ("/api/v1/mailers", "post"),
                ("/api/v1/events", "get"), ("/api/v1/events/{event_id}", "get")}
    for lists, values in (("email-lists", "emails"), ("phone-lists", "phones")):
        expected |= {(f"/api/v1/{lists}", "get"), (f"/api/v1/{lists}", "post"),
                     (f"/api/v1/{lists}/{{list_id}}/{values}-add", "post"),
                     (f"/api/v1/{lists}/{{list_id}}/{values}-remove", "post")}
        expected |= {(f"/api/v1/{lists}/{{list_id}}", m) for m in ("get", "patch", "delete")}
    for campaigns in ("email-campaigns", "sms-campaigns"):
        expected |= {(f"/api/v1/{campaigns}", "get"), (f"/api/v1/{campaigns}", "post")}
        expected |= {(f"/api/v1/{campaigns}/{{campaign_id}}", m)
                     for m in ("get", "patch", "delete")}
    expected |= {("/api/v1/mailers/{mailer_id}", m) for m in ("get", "patch", "delete")}
    assert expected <= operations


def test_openapi_has_the_request_schemas_with_required_fields(document):
    schemas = document["components"]["schemas"]
    assert set(schemas["NewMailer"]["required"]) == {"company_name", "nickname", "email"}
    assert schemas["NewEmailList"]["required"] == ["name"]
    assert "suppressed_domains" in schemas["NewEmailList"]["properties"]
    assert "suppressed_domains" not in schemas["NewPhoneList"]["properties"]
    assert schemas["EmailsToAdd"]["properties"]["emails"]["maxItems"] == 10_000
    assert schemas["NewCampaign"]["required"] == ["name"]
    body = document["paths"]["/api/v1/mailers"]["post"]["requestBody"]
    assert body["content"]["application/json"]["schema"] == \
        {"$ref": "#/components/schemas/NewMailer"}


def test_openapi_documents_the_error_responses(document):
    responses = document["paths"]["/api/v1/email-lists/{list_id}"]["delete"]["responses"]
    assert {"204", "401", "403", "404", "409"} <= set(responses)
    add = document["paths"]["/api/v1/email-lists/{list_id}/emails-add"]["post"]["responses"]
    assert {"200", "400", "401", "403", "404", "409", "422"} <= set(add)
    conflict = document["components"]["responses"]["CONFLICT"]
    assert conflict["content"]["application/json"]["schema"] == \
        {"$ref": "#/components/schemas/Error"}
    detail = document["components"]["schemas"]["ErrorDetail"]["properties"]
    assert {"code", "message", "fields"} <= set(detail)


def test_openapi_declares_the_bearer_key(document):
    assert document["components"]["securitySchemes"]["bearer"] == {"type": "http",
                                                                   "scheme": "bearer"}
    assert document["security"] == [{"bearer": []}]
