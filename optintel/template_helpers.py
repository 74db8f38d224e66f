"""What every template may use: the menu, enums, masks and date formats."""
from flask import request, url_for
from flask_login import current_user

from . import actions
from .meta_events import scope_label
from .models import Channel, ContactSource, Level, ListKind, Role, Status, Storage, Trigger
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


def tracking_tab_url(rule):
    """The address of the Tracking tab that holds the rule."""
    if rule.level == Level.PROJECT:
        return url_for("settings.opt_intel_tracking")
    endpoint, key = ("campaigns.tracking", "campaign_id") if rule.level.is_campaign else \
        ("lists.tracking", "list_id")
    return url_for(endpoint, channel=rule.level.channel.value, **{key: rule.scope_id})


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
                "tracking_tab_url": tracking_tab_url, "scope_label": scope_label,
                "rule_trigger_settings": trigger_settings_text,
                "rule_action_settings": lambda rule: action_settings_text(rule, current_user)}
