"""Add to opt-out list: the event's contact is added to another list of its channel."""
from ..contact_changes import add_contacts, add_contacts_by_md5
from ..models import ActionType
from .target_list import TargetListAction


class AddToList(TargetListAction):
    key = ActionType.ADD_TO_LIST
    label = "Add to opt-out list"
    verb = "Add to"

    def preview(self, target, present, contact):
        if present:
            return f"Test only, nothing changed: {contact} is already in {target.name}."
        return f"Test only, nothing changed: would add {contact} to {target.name}."

    def change(self, target, event, origin):
        if event["contact"]:
            return add_contacts(target, [event["contact"]], origin)
        # The event's list keeps MD5s only: an MD5-only target can still take it.
        return add_contacts_by_md5(target, [event["contact_md5"]], origin)
