"""The Tracking Log's filters form: only what is shown. tracking_log.filters.LogFilter reads and
checks the query string; its messages are put beside these fields."""
from wtforms import Form, SelectField, StringField

from .. import actions
from ..access import (log_campaigns_query, log_lists_query, log_mailers_query,
                      visible_rules_query)
from ..extensions import db
from ..models import (ActionType, Campaign, DeliveryStatus, Level, Mailer, OptOutList,
                      TrackingRule, Trigger)

ANY = ("", "Any")


def _enum_choices(enum, label=lambda member: member.label):
    return [ANY] + [(member.value, label(member)) for member in enum]


class FilterForm(Form):
    """GET form: no CSRF token, every field optional; names as LogFilter reads them."""

    date_from = StringField("From", render_kw={"type": "date"})
    date_to = StringField("To", render_kw={"type": "date"})
    level = SelectField("Level", choices=_enum_choices(Level), validate_choice=False)
    scope_id = StringField("Scope ID", render_kw={"inputmode": "numeric", "placeholder": "Any"})
    trigger = SelectField("Trigger", choices=_enum_choices(Trigger), validate_choice=False)
    action = SelectField("Action", validate_choice=False, choices=_enum_choices(
        ActionType, lambda member: actions.get(member).label))
    status = SelectField("Status", choices=_enum_choices(DeliveryStatus), validate_choice=False)
    host = StringField("Host", render_kw={"placeholder": "hooks.example.com"})
    list_id = SelectField("List", validate_choice=False)
    mailer_id = SelectField("Mailer", validate_choice=False)
    campaign_id = SelectField("Campaign", validate_choice=False)
    rule_id = SelectField("Rule", validate_choice=False)
    contact = StringField("Contact", render_kw={"placeholder": "Email, phone or MD5",
                                                "autocomplete": "off"})

    def __init__(self, args, user, log_filter):
        super().__init__(formdata=args)
        self.list_id.choices = [ANY] + [
            (str(lst.id), f"{lst.name} ({lst.channel.label})") for lst in
            db.session.scalars(log_lists_query(user).order_by(OptOutList.name))]
        self.campaign_id.choices = [ANY] + [
            (str(c.id), c.name) for c in
            db.session.scalars(log_campaigns_query(user).order_by(Campaign.name))]
        self.mailer_id.choices = [ANY] + [
            (str(m.id), m.nickname) for m in
            db.session.scalars(log_mailers_query(user).order_by(Mailer.nickname))]
        self.rule_id.choices = [ANY] + [
            (str(r.id), f"#{r.id} {actions.get(r.action).label}") for r in
            db.session.scalars(visible_rules_query(user).order_by(TrackingRule.id.desc()))]
        for name, message in log_filter.errors.items():
            self[name].errors = [message]
