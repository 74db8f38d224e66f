"""What every template may use: the menu, enums, masks and date formats."""
from dataclasses import dataclass

from flask import request, url_for
from flask_login import current_user
from markupsafe import Markup

from . import actions, placeholders
from .meta_events import scope_label
from .models import (Channel, ContactSource, DeliveryStatus, ListKind, Role, Status, Storage,
                     Trigger)
from .rules.presenting import action_settings_text, trigger_settings_text
from .tracking.tabs import tab_url


@dataclass(frozen=True)
class MenuEntry:
    """A page of the menu."""

    label: str
    endpoint: str
    kwargs: tuple = ()  # (name, value) pairs of url_for

    @property
    def href(self):
        return url_for(self.endpoint, **dict(self.kwargs))


@dataclass(frozen=True)
class MenuGroup:
    """A titled group of pages inside a section, as the seed's System Management > General."""

    label: str
    entries: tuple


def menu_for(user):
    """The dashboard menu as [(section, [MenuEntry or MenuGroup])] the user may open, in the
    seed article's words (System Management > General > Project Settings, > Logs > Tracking
    Log)."""
    if not user.is_authenticated:
        return []
    sections = []
    if user.role in (Role.GLOBAL_ADMIN, Role.CAMPAIGN_MANAGER):
        sections.append(("Campaigns", [
            MenuEntry("Email Campaigns", "campaigns.index", (("channel", "email"),)),
            MenuEntry("SMS Campaigns", "campaigns.index", (("channel", "phone"),)),
        ]))
    if user.role in (Role.GLOBAL_ADMIN, Role.LIST_OWNER):
        sections.append(("List Management", [
            MenuEntry("Email Opt-out Lists", "lists.index", (("channel", "email"),)),
            MenuEntry("Phone Number Opt-Out Lists", "lists.index", (("channel", "phone"),)),
        ]))
    if user.is_admin:
        sections.append(("Mailers", [MenuEntry("Mailers", "mailers.index")]))
    logs = MenuGroup("Logs", (MenuEntry("Tracking Log", "logs.index"),))
    system = [logs]
    if user.is_admin:
        system = [MenuGroup("General", (MenuEntry("Project Settings", "settings.index"),)), logs,
                  MenuEntry("Users", "users.index"), MenuEntry("API Keys", "api_keys.index")]
    sections.append(("System Management", system))
    return sections


def menu_trail(menu, path):
    """(the menu entry whose page holds the path, [the titles above it]), by the longest
    address that the path starts with; (None, []) outside the menu (the home page)."""
    found, trail = None, []
    for section, items in menu:
        for item in items:
            group = [item] if isinstance(item, MenuGroup) else []
            for entry in item.entries if group else [item]:
                href = entry.href
                if path.startswith(href) and href != "/" and \
                        (found is None or len(href) > len(found.href)):
                    found, trail = entry, [section, *(g.label for g in group)]
    return found, trail


def action_of(key):
    """The action of the registry for a key, for what templates say of it."""
    return actions.get(key)


def trigger_label(value):
    return Trigger(value).label


def fmt_datetime(value):
    """A moment as a <time> element, which app.css keeps on one line."""
    if not value:
        return ""
    return Markup('<time datetime="{}">{}</time>').format(
        value.strftime("%Y-%m-%dT%H:%M:%SZ"), value.strftime("%Y-%m-%d %H:%M:%S UTC"))


def placeholder_samples(trigger):
    """[(name, sample)] of the placeholders that the trigger's events give, for the picker."""
    return [(name, placeholders.SAMPLES[name])
            for name in placeholders.names_for(Trigger(trigger))]


def init_app(app):
    app.jinja_env.filters["datetime"] = fmt_datetime
    app.jinja_env.filters["thousands"] = "{:,}".format
    # A global, not a context value: the macros of _macros/forms.html, imported without the
    # context, offer them.
    app.jinja_env.globals["placeholder_samples"] = placeholder_samples

    @app.context_processor
    def globals_for_templates():
        menu = menu_for(current_user)
        menu_entry, menu_titles = menu_trail(menu, request.path)
        return {"menu": menu, "menu_entry": menu_entry, "menu_titles": menu_titles,
                "Channel": Channel, "Role": Role,
                "Status": Status, "ListKind": ListKind, "Storage": Storage, "Trigger": Trigger,
                "ContactSource": ContactSource, "DeliveryStatus": DeliveryStatus,
                "current_path": request.path,
                "action_of": action_of, "tracking_tab_url": tab_url, "trigger_label": trigger_label,
                "scope_label": scope_label,
                "rule_trigger_settings": trigger_settings_text,
                "rule_action_settings": lambda rule: action_settings_text(rule, current_user)}
