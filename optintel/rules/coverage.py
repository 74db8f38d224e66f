"""Which events a rule fires for (SPEC §5), computed from a snapshot of lists and campaigns.

Used for the Adjacent Rules column and by the dispatcher's matching index."""
from dataclasses import dataclass

import sqlalchemy as sa

from .. import actions
from ..extensions import db
from ..models import Level, OptOutList, campaign_lists, list_members


@dataclass(frozen=True)
class Coverage:
    """The events a rule fires for: on these list ids (None: any list), from these mailer ids
    (None: any mailer or none), of this channel (None: any)."""

    trigger: str
    lists: frozenset | None
    mailers: frozenset | None
    channel: str | None

    def matches(self, trigger, list_id, channel, mailer_id):
        return (trigger == self.trigger
                and (self.channel is None or channel == self.channel)
                and (self.lists is None or list_id in self.lists)
                and (self.mailers is None or mailer_id in self.mailers))


class Snapshot:
    """Lists' channels, groups' members and campaigns' lists, read in three queries."""

    def __init__(self):
        self.channel = dict(db.session.execute(sa.select(OptOutList.id, OptOutList.channel)).all())
        self.members = {}
        for group_id, member_id in db.session.execute(sa.select(list_members)).all():
            self.members.setdefault(group_id, set()).add(member_id)
        self.campaign_lists = {}
        for campaign_id, list_id in db.session.execute(sa.select(campaign_lists)).all():
            self.campaign_lists.setdefault(campaign_id, set()).add(list_id)

    def expand(self, list_ids):
        """Single list ids: Grouped lists replaced by their members."""
        expanded = set()
        for list_id in list_ids:
            expanded |= self.members.get(list_id, {list_id})
        return frozenset(expanded)

    def coverage(self, rule):
        """The Coverage of a rule."""
        settings = rule.trigger_settings or {}
        mailers = frozenset(settings.get("mailer_ids") or []) or None
        channel = rule.level.channel
        if rule.level == Level.PROJECT:
            lists = self.expand(settings.get("contact_list_ids") or []) or None
            target = actions.get(rule.action).target_list_id(rule.action_settings or {})
            if target is not None:
                # A Project rule that changes a list applies to events of that list's channel only.
                channel = self.channel.get(target)
        elif rule.level.is_campaign:
            lists = self.expand(self.campaign_lists.get(rule.scope_id, ()))
        else:
            lists = self.expand({rule.scope_id})
        return Coverage(rule.trigger, lists, mailers, channel)

    def overlap(self, a, b):
        """Whether some event would fire both coverages."""
        if a.trigger != b.trigger or a.channel and b.channel and a.channel != b.channel:
            return False
        if a.mailers is not None and b.mailers is not None and not a.mailers & b.mailers:
            return False
        channel = a.channel or b.channel
        if a.lists is None and b.lists is None:
            return True
        common = (a.lists if b.lists is None else b.lists if a.lists is None else a.lists & b.lists)
        return any(channel is None or self.channel.get(i) == channel for i in common)


def adjacent_rule_ids(rules, active_rules):
    """{rule id: [ids of the other active rules that would fire on a same event]}."""
    snapshot = Snapshot()
    coverages = {r.id: snapshot.coverage(r) for r in {*rules, *active_rules}}
    return {rule.id: [other.id for other in active_rules if other.id != rule.id and
                      snapshot.overlap(coverages[rule.id], coverages[other.id])]
            for rule in rules}
