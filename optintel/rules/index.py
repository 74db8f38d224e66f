"""The matching index of the dispatcher: active and paused rules by trigger and list, rebuilt
only when a change that can alter matching is committed (rules, campaigns' lists, groups'
members). A paused rule still matches: its deliveries are created held."""
import secrets
import threading
from typing import NamedTuple

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ..extensions import db
from ..models import Campaign, OptOutList, ProjectSettings, RuleStatus, TrackingRule
from ..sql import built_once
from .coverage import Snapshot

WATCHED = (TrackingRule, Campaign, OptOutList)


class Match(NamedTuple):
    """What a delivery copies from the rule that matched."""

    rule_id: int
    action: str
    level: str
    scope_id: int | None
    host: str
    held: bool  # the rule is paused


class RuleIndex:
    """Active and paused rules' coverages, by (trigger, list id) and for rules on any list."""

    def __init__(self, version, rules):
        snapshot = Snapshot()
        self.version = version
        self.by_list, self.any_list = {}, {}
        for rule in rules:
            coverage = snapshot.coverage(rule)
            entry = (Match(rule.id, rule.action, rule.level, rule.scope_id, rule.host,
                           rule.is_paused), coverage)
            if coverage.lists is None:
                self.any_list.setdefault(rule.trigger, []).append(entry)
            else:
                for list_id in coverage.lists:
                    self.by_list.setdefault((rule.trigger, list_id), []).append(entry)

    def match(self, event):
        """The Matches of the active and paused rules that fire for the event."""
        candidates = self.by_list.get((event.trigger, event.list_id), []) + \
            self.any_list.get(event.trigger, [])
        return [match for match, coverage in candidates
                if coverage.matches(event.trigger, event.list_id, event.channel, event.mailer_id)]


_cache = {"index": None}
_lock = threading.Lock()


def current_version():
    return db.session.scalar(_version()) or 0


@built_once
def _version():
    return sa.select(ProjectSettings.rules_version).where(ProjectSettings.id == 1)


def current_index():
    """The index for the committed rules, rebuilt when their version has moved."""
    version = current_version()
    with _lock:
        index = _cache["index"]
        if index is None or index.version != version:
            rules = db.session.scalars(sa.select(TrackingRule).where(TrackingRule.status.in_(
                (RuleStatus.ACTIVE, RuleStatus.PAUSED)))).all()
            index = _cache["index"] = RuleIndex(version, rules)
        return index


@sa.event.listens_for(Session, "before_flush")
def _new_version(session, _context, _instances):
    """Any flush that adds, changes or deletes a rule, campaign or list gives the rules a new
    version: a random one, so that it never comes back (a restored or emptied database)."""
    touched = (*session.new, *session.dirty, *session.deleted)
    if any(isinstance(obj, WATCHED) for obj in touched):
        rules_changed(session)


def rules_changed(session):
    """Give the rules a new version in the session's transaction, for a change made without
    the ORM (a rule paused by its failures)."""
    version, table = secrets.randbits(62), ProjectSettings.__table__
    changed = session.execute(sa.update(table).where(table.c.id == 1).values(rules_version=version))
    if changed.rowcount == 0 and not any(isinstance(o, ProjectSettings) for o in session.new):
        session.add(ProjectSettings(id=1, rules_version=version))
