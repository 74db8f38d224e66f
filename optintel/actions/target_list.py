"""What Add to and Remove from opt-out list share: the target list, its checks, and changing it
as any other change does, so that its own rules fire in turn."""
import sqlalchemy as sa
from flask import current_app
from wtforms import Form, SelectField

from ..access import may_reference_list
from ..contact_changes import ListNotWritable, Origin
from ..extensions import db
from ..ids import as_id
from ..models import Contact, ContactSource, OptOutList
from .base import Action, Outcome


class TargetListForm(Form):
    list_id = SelectField("Target List", coerce=str, validate_choice=False)


class TargetListAction(Action):
    """An action that changes another opt-out list of the event's channel."""

    Form = TargetListForm
    verb = ""
    in_pool = False  # it changes the database, in the job's own session
    reply_label = "Result"
    settings_doc = "{list_id}"
    test_changes_nothing = True
    acts_on_contact = True

    def target_list_id(self, settings):
        return settings.get("list_id")

    def change(self, target, event, origin):
        """Apply the change to the target list; returns contact_changes' outcome."""
        raise NotImplementedError

    def execute(self, work):
        event, list_id = work.event, work.settings["list_id"]
        request = {"list_id": list_id, "contact_md5": event["contact_md5"]}
        limit = current_app.config["OPTINTEL_MAX_CHAIN_DEPTH"]
        if event["depth"] >= limit:
            return Outcome(False, request, skipped=True, permanent=True,
                           error=f"Stopped: this event is {event['depth']} actions deep, the "
                                 f"limit of a chain of Add/Remove actions is {limit}.")
        target = db.session.get(OptOutList, list_id)
        if target is None or target.channel != event["channel"]:
            return Outcome(False, request, permanent=True,
                           error=f"List #{list_id} does not exist or is of another channel.")
        origin = Origin(ContactSource.ACTION, event["mailer_id"], event["campaign_id"],
                        caused_by_event_id=event["id"], depth=event["depth"] + 1)
        try:
            result = self.change(target, event, origin)
        except ListNotWritable as exc:
            return Outcome(False, request, permanent=True, error=str(exc))
        return Outcome(True, request, response_body=self.describe(result))

    def test(self, work):
        """Say what the action would change, and change nothing."""
        event, list_id = work.event, work.settings["list_id"]
        target = db.session.get(OptOutList, list_id)
        request = {"list_id": list_id, "contact_md5": event["contact_md5"], "dry_run": True}
        # A list the person testing may not open reads as missing: nothing of it is told.
        if target is None or target.channel != event["channel"] or \
                not may_reference_list(work.viewer, target):
            return Outcome(False, request, error=f"List #{list_id} does not exist or is of "
                                                 f"another channel.")
        present = db.session.scalar(sa.select(Contact.id).where(
            Contact.list_id == target.id, Contact.md5 == event["contact_md5"])) is not None
        return Outcome(True, request, response_body=self.preview(target, present,
                                                                 event["contact"] or
                                                                 event["contact_md5"]))

    def preview(self, target, present, contact):
        """What the action would do to the target list, in a sentence."""
        raise NotImplementedError

    @staticmethod
    def describe(result):
        return "changed" if result.changed else "unchanged (nothing to do)"

    def validate(self, raw, context, errors):
        list_id = as_id(raw.get("list_id"))
        target = db.session.get(OptOutList, list_id) if list_id is not None else None
        if target is None or (context.user is not None and
                              not may_reference_list(context.user, target)):
            # Someone else's list reads as missing: existence must not leak.
            errors.add("list_id", "Choose an existing opt-out list.")
            target = None
        elif target.is_grouped:
            errors.add("list_id", "Choose a Single list: a Grouped list holds no contacts itself.")
        elif context.channel is not None and target.channel != context.channel:
            errors.add("list_id", f"Choose a list of the same channel ({context.channel.label}).")
        elif target.id in context.own_list_ids:
            errors.add("list_id", "Choose another list than the rule's own.")
        return {"list_id": target.id if target else None}

    def summary(self, settings, viewer=None):
        target = db.session.get(OptOutList, settings["list_id"])
        if target is None:
            name = f"#{settings['list_id']} (deleted)"
        elif viewer is not None and not may_reference_list(viewer, target):
            name = f"list #{target.id} (not one of yours)"
        else:
            name = f"{target.name} (#{target.id})"
        return f"{self.verb} {name}"
