"""Rendering the public pages: their templates alone, without the dashboard's template context,
whose menu loads the logged-in user and so touches the session (a visitor's dashboard cookie
would be written again)."""
from flask import current_app


def render(template, **context):
    """The HTML of a public template with this context (url_for and the form macros work)."""
    return current_app.jinja_env.get_template(template).render(**context)
