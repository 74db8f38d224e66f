"""Any query string on any page that a Global Admin can open — the known arguments with any text,
unknown ones, url_for's own option names — is answered without a 500. The pages are read from
the app's url_map, so that new ones are covered without a change."""
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from url_map import PAGE_GETS, path_of

NAMES = ["after", "before", "q", "next", "adjacent_to", "date_from", "date_to", "level",
         "scope_id", "trigger", "action", "status", "host", "list_id", "mailer_id",
         "campaign_id", "rule_id", "contact", "_method", "_external", "_anchor", "_scheme",
         "endpoint", "values"]
VALUES = (st.text(max_size=30) | st.integers().map(str)
          | st.sampled_from(["2024-01-01", "9999-12-31", "0001-01-01", "failed", "project",
                             "a@example.com", "+14155550100", "1", "0", "-1", ""]))
QUERIES = st.dictionaries(st.sampled_from(NAMES) | st.text(min_size=1, max_size=8), VALUES,
                          max_size=6)


@pytest.fixture
def ids(make_list, make_campaign, make_mailer, make_rule, make_user):
    email_list, mailer = make_list(), make_mailer()
    campaign = make_campaign(mailers=[mailer], lists=[email_list])
    return {"list_id": email_list.id, "campaign_id": campaign.id, "mailer_id": mailer.id,
            "user_id": make_user().id, "scope_id": 0, "delivery_id": 1, "run_id": 1,
            "rule_id": make_rule("add_to_list", {"list_id": email_list.id})}


@pytest.mark.parametrize("rule", PAGE_GETS, ids=lambda rule: rule.rule)
def test_any_query_string_on_a_page_is_not_a_500(as_admin, ids, rule):
    path = path_of(rule, ids.get)

    @given(query=QUERIES)
    @settings(max_examples=15, derandomize=True, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    def answered(query):
        for headers in ({}, {"HX-Request": "true"}):
            response = as_admin.get(path, query_string=query, headers=headers)
            assert response.status_code < 500, (query, response.get_data(as_text=True)[:300])

    answered()
