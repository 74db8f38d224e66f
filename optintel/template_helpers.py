"""What every template may use: the menu, enums, masks and date formats."""
from dataclasses import dataclass
from functools import cached_property

from flask import request, url_for
from flask_login import current_user
from markupsafe import Markup

from . import actions, placeholders
from .models import (Channel, ContactSource, DeliveryStatus, ListKind, Role, Status, Storage,
                     Trigger)
from .rules.presenting import action_settings_text, trigger_settings_text
from .tracking.tabs import tab_url


@dataclass(frozen=True)
class MenuEntry:
    """A page of the menu."""

    label: str
    href: str


@dataclass(frozen=True)
class MenuGroup:
    """A titled group of pages inside a section, as the seed's System Management > General."""

    label: str
    entries: tuple


def _entry(label, endpoint, **kwargs):
    return MenuEntry(label, url_for(endpoint, **kwargs))


def menu_for(user):
    """The dashboard menu as [(section, [MenuEntry or MenuGroup])] the user may open, in the
    seed article's words (System Management > General > Project Settings, > Logs > Tracking
    Log)."""
    if not user.is_authenticated:
        return []
    sections = []
    if user.role in (Role.GLOBAL_ADMIN, Role.CAMPAIGN_MANAGER):
        sections.append(("Campaigns", [
            _entry("Email Campaigns", "campaigns.index", channel="email"),
            _entry("SMS Campaigns", "campaigns.index", channel="phone"),
        ]))
    if user.role in (Role.GLOBAL_ADMIN, Role.LIST_OWNER):
        sections.append(("List Management", [
            _entry("Email Opt-out Lists", "lists.index", channel="email"),
            _entry("Phone Number Opt-Out Lists", "lists.index", channel="phone"),
        ]))
    if user.is_admin:
        sections.append(("Mailers", [_entry("Mailers", "mailers.index")]))
    logs = MenuGroup("Logs", (_entry("Tracking Log", "logs.index"),))
    system = [logs]
    if user.is_admin:
        system = [MenuGroup("General", (_entry("Project Settings", "settings.index"),)), logs,
                  _entry("Users", "users.index"), _entry("API Keys", "api_keys.index")]
    sections.append(("System Management", system))
    return sections


def menu_trail(menu, path):
    """(the menu entry whose page holds the path, [the titles above it]), by the longest
    address that the path starts with; (None, []) outside the menu (the home page)."""
    found, trail = None, []
    for entry, titles in _pages(menu):
        if entry.href != "/" and path.startswith(entry.href) and \
                (found is None or len(entry.href) > len(found.href)):
            found, trail = entry, titles
    return found, trail


def _pages(menu):
    """(entry, [the titles above it]) of every page of the menu, in its order."""
    for section, items in menu:
        for item in items:
            if isinstance(item, MenuGroup):
                yield from ((entry, [section, item.label]) for entry in item.entries)
            else:
                yield item, [section]


class PageMenu:
    """The menu of the page being rendered and the page's place in it, built when a template
    first reads them: the fragments that htmx polls show no menu and build none."""

    def __init__(self, user, path):
        self.user, self.path = user, path

    @cached_property
    def sections(self):
        return menu_for(self.user)

    @cached_property
    def _trail(self):
        return menu_trail(self.sections, self.path)

    @property
    def entry(self):
        return self._trail[0]

    @property
    def titles(self):
        return self._trail[1]


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
        return {"menu": PageMenu(current_user, request.path),
                "Channel": Channel, "Role": Role,
                "Status": Status, "ListKind": ListKind, "Storage": Storage, "Trigger": Trigger,
                "ContactSource": ContactSource, "DeliveryStatus": DeliveryStatus,
                "current_path": request.path,
                "action_of": action_of, "tracking_tab_url": tab_url, "trigger_label": trigger_label,
                "rule_trigger_settings": trigger_settings_text,
                "rule_action_settings": lambda rule: action_settings_text(rule, current_user)}
