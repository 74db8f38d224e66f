"""The view side of access.py: decorators and blueprint guards that answer 401, 403 or 404 by
its rules, for the pages and the API alike."""
from functools import wraps

from flask import abort
from flask_login import current_user

from . import access
from .extensions import login
from .models import Role


def _check_roles(roles):
    if not current_user.is_authenticated:
        abort(401)
    if current_user.role not in roles:
        abort(403)


def require_roles(*roles):
    """View decorator: 403 unless the logged-in user has one of the roles."""
    def decorator(view):
        @wraps(view)
        def wrapper(*args, **kwargs):
            _check_roles(roles)
            return view(*args, **kwargs)
        return wrapper
    return decorator


admin_only = require_roles(Role.GLOBAL_ADMIN)


def guard_blueprint(bp, area=None):
    """Every page of the blueprint needs a login (else the login page) and, given an area, a
    role that opens it (else 403); what a page shows is then checked object by object."""
    @bp.before_request
    def guard():
        if not current_user.is_authenticated:
            return login.unauthorized()
        if area is not None and not access.may_open(current_user, area):
            abort(403)
        return None


def list_or_404(list_id, channel):
    """The list of the URL if the user may open it; 404 otherwise, so existence does not leak."""
    return access.list_for(current_user, list_id, channel) or abort(404)


def campaign_or_404(campaign_id, channel):
    """The campaign of the URL if the user may open it; 404 otherwise."""
    return access.campaign_for(current_user, campaign_id, channel) or abort(404)
