"""The two steps of the Add Rule pop-up. Fields only: every check is in rules/validation.py."""
import sqlalchemy as sa
from flask_wtf import FlaskForm
from wtforms import HiddenField, SelectField, SelectMultipleField

from .. import actions
from ..access import referable_lists_query
from ..actions.base import TARGET_CHANGED
from ..actions.credentials import without_masks
from ..extensions import db
from ..ids import to_id
from ..models import ActionType, ListKind, Mailer, OptOutList, Trigger


class StepOneForm(FlaskForm):
    trigger = SelectField("Trigger")
    action = SelectField("Action", choices=[(a.value, actions.get(a).label) for a in ActionType])

    def __init__(self, level, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Meta events (a rule paused, resumed, a delivery failed) at Project level only.
        self.trigger.choices = [(t.value, t.label) for t in level.triggers]


class TriggerSettingsForm(FlaskForm):
    trigger = HiddenField()
    action = HiddenField()
    contact_list_ids = SelectMultipleField("Contacts List", coerce=to_id, validate_choice=False,
                                           description="None selected: any list.")
    mailer_ids = SelectMultipleField("Mailers", coerce=to_id, validate_choice=False,
                                     description="None selected: any mailer.")


def step_two_form(level, trigger, action_key, scope, user, **kwargs):
    """The step 2 form: the Trigger Settings block of the level and trigger, then the action's
    fields, offering only what the user may name."""
    action = actions.get(action_key)
    # A field set to None is left out of the form: only the level's Trigger Settings remain.
    shown = level.trigger_settings_for(trigger) if trigger in set(Trigger) else \
        level.trigger_settings
    hidden = {name: None for name in ("contact_list_ids", "mailer_ids") if name not in shown}
    form_class = type("StepTwoForm", (TriggerSettingsForm, action.Form), hidden)
    form = form_class(**kwargs)
    if "contact_list_ids" in form:
        form.contact_list_ids.choices = [
            (lst.id, f"{lst.name} ({lst.channel.label})") for lst in
            db.session.scalars(sa.select(OptOutList).order_by(OptOutList.channel, OptOutList.name))]
    if "mailer_ids" in form:
        form.mailer_ids.choices = [(m.id, f"{m.nickname} — {m.company_name}") for m in
                                   db.session.scalars(sa.select(Mailer).order_by(Mailer.nickname))]
    if "list_id" in form:
        form.list_id.choices = [("", "Choose a list…")] + [
            (str(lst.id), f"{lst.name} ({lst.channel.label})")
            for lst in _target_lists(level, scope, user)]
    return form


def _target_lists(level, scope, user):
    query = referable_lists_query(user).where(OptOutList.kind == ListKind.SINGLE)
    if level.channel is not None:
        query = query.where(OptOutList.channel == level.channel)
    if level.is_list and scope is not None:
        query = query.where(OptOutList.id.not_in([scope.id, *(m.id for m in scope.members)]))
    return db.session.scalars(query.order_by(OptOutList.channel, OptOutList.name)).all()


def form_to_rule_data(form, level):
    """The API's rule shape from a submitted step 2 form."""
    action = actions.get(form.action.data)
    return {
        "trigger": form.trigger.data, "action": form.action.data,
        "trigger_settings": {name: form[name].data or [] for name in level.trigger_settings
                             if name in form},
        "action_settings": action.from_form(form),
    }


def show_errors(form, fields):
    """Put rules.validation's messages beside the dialog's fields. A field whose masked secrets
    no longer stand for anything (the target changed) shows without them."""
    action = actions.get(form.action.data)
    for key, messages in fields.items():
        name = action.form_field(key.split(".", 1)[1]) if "." in key else key
        target = form[name].errors if name in form else form.form_errors
        target.extend(messages if name in form else [f"{key}: {m}" for m in messages])
        if name in form and TARGET_CHANGED in messages and isinstance(form[name].data, str):
            form[name].data = without_masks(form[name].data)

