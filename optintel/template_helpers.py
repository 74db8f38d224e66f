"""What every template may use: the menu, enums, masks and date formats."""
from flask import request
from flask_login import current_user

from . import actions
from .models import Channel, ContactSource, ListKind, Role, Status, Storage, Trigger
from .rules.presenting import action_settings_text, trigger_settings_text


def menu_for(user):
    """The dashboard menu as (section, [(label, endpoint, kwargs)]) the user may open."""
    if not user.is_authenticated:
        return []
    sections = []
    if user.role in (Role.GLOBAL_ADMIN, Role.CAMPAIGN_MANAGER):
        sections.append(("Campaigns", [
            ("Email Campaigns", "campaigns.index", {"channel": "email"}),
            ("SMS Campaigns", "campaigns.index", {"channel": "phone"}),
        ]))
    if user.role in (Role.GLOBAL_ADMIN, Role.LIST_OWNER):
        sections.append(("List Management", [
            ("Email Opt-out Lists", "lists.index", {"channel": "email"}),
            ("Phone Number Opt-Out Lists", "lists.index", {"channel": "phone"}),
        ]))
    if user.is_admin:
        sections.append(("Mailers", [("Mailers", "mailers.index", {})]))
    system = [("Logs", "logs.index", {})]
    if user.is_admin:
        system = [("Project Settings", "settings.index", {}), *system,
                  ("Users", "users.index", {}), ("API Keys", "api_keys.index", {})]
    sections.append(("System Management", system))
    return sections


def action_of(key):
    """The action of the registry for a key, for what templates say of it."""
    return actions.get(key)


def trigger_label(value):
    return Trigger(value).label


def fmt_datetime(value):
    return value.strftime("%Y-%m-%d %H:%M:%S UTC") if value else ""


def init_app(app):
    app.jinja_env.filters["datetime"] = fmt_datetime

    @app.context_processor
    def globals_for_templates():
        return {"menu": menu_for(current_user), "Channel": Channel, "Role": Role,
                "Status": Status, "ListKind": ListKind, "Storage": Storage, "Trigger": Trigger,
                "ContactSource": ContactSource, "current_path": request.path,
                "action_of": action_of, "trigger_label": trigger_label,
                "rule_trigger_settings": trigger_settings_text,
                "rule_action_settings": lambda rule: action_settings_text(rule, current_user)}
