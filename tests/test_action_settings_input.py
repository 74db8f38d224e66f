"""Any JSON in a rule's action settings — the one part of the API that its document leaves open
(an object whose keys depend on the action) — is saved or refused with messages by field (or,
for a NUL character, with a 400), never a 500: values of every JSON type, integers past 64 bits,
nested objects, under each action's own keys."""
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from optintel import actions
from optintel.models import ActionType
from optintel.request_input import NO_NUL

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=30)
    | st.floats(allow_nan=False, allow_infinity=False),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner,
                                                                  max_size=3),
    max_leaves=8)


def _settings_of(action):
    keys = list(actions.get(action).Form()._fields)
    return st.dictionaries(st.sampled_from(keys) | st.text(max_size=8), JSON, max_size=len(keys))


@pytest.mark.parametrize("action", list(ActionType), ids=lambda action: action.value)
def test_any_json_in_action_settings_is_saved_or_refused_by_field(api, make_list, action):
    make_list()

    @given(action_settings=_settings_of(action))
    @settings(max_examples=60, derandomize=True, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    def saved_or_refused(action_settings):
        response = api.post("/tracking-rules", {"level": "project", "trigger": "contact_added",
                                                "action": action.value,
                                                "action_settings": action_settings})
        assert response.status_code in (201, 400, 422), response.get_data(as_text=True)[:500]
        if response.status_code == 422:
            assert response.json["error"]["fields"]
        if response.status_code == 400:  # the one text no field may hold
            assert response.json["error"]["message"] == NO_NUL

    saved_or_refused()
