"""The API does what its OpenAPI document says: schemathesis sends generated requests, valid and
invalid, to every operation of /api/v1/openapi.json, in process, with the key of a Global Admin,
and fails on any 5xx, any status the document does not list, and any body or content type that
does not match it.

The database holds something of each kind first (a real worker ran the deliveries and a Test
Run), and half of the generated requests name those objects in their path, so that answers about
existing objects are checked too, not only 404s. Examples are bounded per operation and
derandomized, so that a run repeats the last one."""
import sqlalchemy as sa
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

import schemathesis
from conftest import fresh, wait_for
from optintel.extensions import db
from optintel.models import (Channel, Delivery, DeliveryStatus, Event, ListKind, Role, Storage,
                             TestRun)
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (content_type_conformance,
                                               response_schema_conformance,
                                               status_code_conformance)

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_schema_conformance]
EXAMPLES = {GenerationMode.POSITIVE: 25, GenerationMode.NEGATIVE: 15}  # per operation
# No shrinking: a failure is reported as found, so that the run stays short.
PHASES = [Phase.explicit, Phase.generate]


def _seed(api, make_user, make_list, make_campaign, make_mailer, make_rule, workers):
    """Objects of each kind, with an event, its delivery and a Test Run run by a real worker;
    returns the path parameters that name them, by the path's collection."""
    owner = make_user(Role.LIST_OWNER)
    single, target = make_list(owner=owner), make_list()
    make_list(kind=ListKind.GROUPED, members=[single])
    phones = make_list(Channel.PHONE, storage=Storage.MD5)
    mailer = make_mailer()
    campaign = make_campaign(mailers=[mailer], lists=[single])
    sms = make_campaign(Channel.PHONE, lists=[phones])
    rule_id = make_rule("add_to_list", {"list_id": target.id}, level="email_list",
                        scope_id=single.id)
    added = api.post(f"/email-lists/{single.id}/emails-add",
                     {"emails": ["a@example.com", "not an address"], "mailer_id": mailer.id,
                      "campaign_id": campaign.id})
    assert added.status_code == 200, added.json
    api.post(f"/phone-lists/{phones.id}/phones-add", {"phones": ["+14155550100"]})
    run = api.post(f"/tracking-rules/{rule_id}/test-run", {"values": {}})
    assert run.status_code == 202, run.json
    workers.start(1)
    wait_for(lambda: fresh(sa.select(Delivery).where(
        Delivery.status == DeliveryStatus.SUCCEEDED)), message="the delivery to succeed")
    wait_for(lambda: fresh(sa.select(TestRun).where(TestRun.status != DeliveryStatus.PENDING)),
             message="the Test Run to finish")
    workers.stop()
    event_id = db.session.scalar(sa.select(sa.func.min(Event.id)))
    delivery_id = db.session.scalar(sa.select(sa.func.min(Delivery.id)))
    common = {"mailer_id": mailer.id, "rule_id": rule_id, "event_id": event_id,
              "delivery_id": delivery_id, "run_id": run.json["id"]}
    return {"email-lists": {**common, "list_id": single.id},
            "phone-lists": {**common, "list_id": phones.id},
            "email-campaigns": {**common, "campaign_id": campaign.id},
            "sms-campaigns": {**common, "campaign_id": sms.id}}, common


def _operations(schema):
    """Every operation of the document, the deletions last so that the others find the seeded
    objects."""
    operations = [result.ok() for result in schema.get_all_operations()]
    return sorted(operations, key=lambda operation: operation.method.upper() == "DELETE")


def _strategy(operation, mode, known):
    """Generated requests of the operation; half of them name seeded objects in the path."""
    names = {parameter.name for parameter in operation.path_parameters}
    generated = operation.as_strategy(mode)
    if not names:
        return generated
    return st.one_of(generated, operation.as_strategy(mode, path_parameters={
        name: value for name, value in known.items() if name in names}))


def test_the_api_answers_as_its_document_says(app, api, api_key, make_user, make_list,
                                              make_campaign, make_mailer, make_rule, workers):
    by_collection, common = _seed(api, make_user, make_list, make_campaign, make_mailer,
                                  make_rule, workers)
    _, key = api_key()
    headers = {"Authorization": f"Bearer {key}"}
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    failures = {}
    for operation in _operations(schema):
        collection = operation.path.split("/")[3]
        known = by_collection.get(collection, common)
        for mode, examples in EXAMPLES.items():
            @given(case=_strategy(operation, mode, known))
            @settings(max_examples=examples, derandomize=True, deadline=None, database=None,
                      suppress_health_check=list(HealthCheck), phases=PHASES)
            def answers_as_documented(case):
                case.call_and_validate(headers=headers, checks=CHECKS)

            try:
                answers_as_documented()
            except Exception as exc:  # every operation is tried; all failures are reported
                failures[f"{operation.label} ({mode.value})"] = exc
    assert not failures, "\n\n".join(f"{label}:\n{exc}" for label, exc in failures.items())
