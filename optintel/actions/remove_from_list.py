"""Remove from opt-out list: the event's contact is deleted from another list of its channel."""
from ..models import ActionType
from .target_list import TargetListAction


class RemoveFromList(TargetListAction):
    key = ActionType.REMOVE_FROM_LIST
    label = "Remove from opt-out list"
    verb = "Remove from"
