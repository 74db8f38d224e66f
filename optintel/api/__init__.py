"""The JSON REST API under /api/v1, documented at /api/v1/openapi.json."""
from flask import g, request

from ..errors import api_error
from ..extensions import csrf, db
from ..models import ApiKey
from ..models.columns import utcnow

PREFIX = "/api/v1"


def authenticate():
    """API requests act as the owner of `Authorization: Bearer KEY`, never as a session cookie,
    so that CSRF cannot reach them."""
    scheme, _, key = request.headers.get("Authorization", "").partition(" ")
    row = ApiKey.find(key.strip()) if scheme.lower() == "bearer" else None
    if row is None or not row.user.active:
        return api_error(401, "Send a valid API key as 'Authorization: Bearer KEY'.")
    row.last_used_at = utcnow()
    db.session.commit()
    g._login_user = row.user  # Flask-Login's current_user for this request only
    return None


def register(app, api):
    """Register every API blueprint, exempt from CSRF and guarded by the API key."""
    from . import blueprints
    for bp in blueprints.ALL:
        csrf.exempt(bp)
        bp.before_request(authenticate)
        api.register_blueprint(bp)
    api.spec.components.security_scheme("bearer", {"type": "http", "scheme": "bearer"})
    api.spec.options["security"] = [{"bearer": []}]
