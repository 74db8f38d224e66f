"""One URL, two renderings: the full page, or one named block of it for htmx requests; and the
events an htmx response sends the page."""
import json

from flask import render_template, request
from jinja2_fragments.flask import render_block


def is_htmx():
    """An htmx request that swaps part of a page: not a boosted navigation, nor the back
    button's restore of a page htmx no longer has in its history cache."""
    headers = request.headers
    return (headers.get("HX-Request") == "true" and headers.get("HX-Boosted") != "true"
            and headers.get("HX-History-Restore-Request") != "true")


def render(template, block=None, **context):
    """The whole template, or only `block` of it when htmx asks for a fragment."""
    if block and is_htmx():
        return render_block(template, block, **context)
    return render_template(template, **context)


def triggers(message=None, **events):
    """The HX-Trigger header of an htmx response: the named events (value None, or details)
    and, if given, a message that the page shows in its messages (the showMessage event)."""
    if message:
        events["showMessage"] = {"text": message}
    return {"HX-Trigger": json.dumps(events)}
