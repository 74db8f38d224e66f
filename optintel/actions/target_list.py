"""What Add to and Remove from opt-out list share: the target list and its checks."""
from wtforms import Form, SelectField

from ..extensions import db
from ..models import OptOutList
from .base import Action


class TargetListForm(Form):
    list_id = SelectField("Target List", coerce=str, validate_choice=False)


class TargetListAction(Action):
    """An action that changes another opt-out list of the event's channel."""

    Form = TargetListForm
    verb = ""

    def validate(self, raw, context, errors):
        list_id = raw.get("list_id")
        target = db.session.get(OptOutList, int(list_id)) if str(list_id or "").isdigit() else None
        if target is None:
            errors.add("list_id", "Choose an existing opt-out list.")
        elif target.is_grouped:
            errors.add("list_id", "Choose a Single list: a Grouped list holds no contacts itself.")
        elif context.channel is not None and target.channel != context.channel:
            errors.add("list_id", f"Choose a list of the same channel ({context.channel.label}).")
        elif target.id in context.own_list_ids:
            errors.add("list_id", "Choose another list than the rule's own.")
        return {"list_id": target.id if target else None}

    def summary(self, settings):
        target = db.session.get(OptOutList, settings["list_id"])
        name = f"{target.name} (#{target.id})" if target else f"#{settings['list_id']} (deleted)"
        return f"{self.verb} {name}"
