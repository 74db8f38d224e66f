"""Remove from opt-out list: the event's contact is deleted from another list of its channel."""
from ..contact_changes import remove_contacts_by_md5
from ..models import ActionType
from .target_list import TargetListAction


class RemoveFromList(TargetListAction):
    key = ActionType.REMOVE_FROM_LIST
    label = "Remove from opt-out list"
    verb = "Remove from"

    def preview(self, target, present, contact):
        if present:
            return f"Test only, nothing changed: would remove {contact} from {target.name}."
        return f"Test only, nothing changed: {contact} is not in {target.name}."

    def change(self, target, event, origin):
        # Both kinds of list hold the MD5 of the same normalised value.
        return remove_contacts_by_md5(target, [event["contact_md5"]], origin)
