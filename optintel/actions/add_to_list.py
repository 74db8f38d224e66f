"""Add to opt-out list: the event's contact is added to another list of its channel."""
from ..models import ActionType
from .target_list import TargetListAction


class AddToList(TargetListAction):
    key = ActionType.ADD_TO_LIST
    label = "Add to opt-out list"
    verb = "Add to"
