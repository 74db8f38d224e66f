"""Ids and other whole numbers from outside — paths, query strings, bodies, forms — kept to the
range of the INTEGER columns they are compared with, so that a larger one is bad input (a 404 or
a message beside its field) and never a database error. Every id column is an INTEGER: 32 bits
in PostgreSQL (where SQLAlchemy casts each parameter to it), 64 in SQLite: the smaller holds."""
from werkzeug.routing import IntegerConverter

SMALLEST = -2**31
LARGEST = 2**31 - 1
_DIGITS = len(str(LARGEST))
# Ids in one list of a request (a campaign's lists, a rule's mailers...): one SQL parameter each.
MAX_IDS = 1000


def as_id(value):
    """The id that `value` names — an int, or a text of ASCII digits, from 0 to LARGEST — or None."""
    if isinstance(value, str) and value.isascii() and value.isdigit() and \
            len(value.lstrip("0")) <= _DIGITS:
        value = int(value)
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= LARGEST:
        return value
    return None


def as_ids(values):
    """The ids that `values` name, or None when one of them is not an id."""
    ids = [as_id(value) for value in values or []]
    return None if None in ids else ids


def to_id(value):
    """as_id, raising ValueError for what is not an id: the `type` of request.args.get and the
    `coerce` of WTForms fields."""
    number = as_id(value)
    if number is None:
        raise ValueError("Not an id.")
    return number


def to_optional_id(value):
    """to_id, with None for an empty choice."""
    return None if value in (None, "") else to_id(value)


def _numbers_up_to(largest):
    """A regular expression of the decimal numbers from 0 to `largest`."""
    digits = str(largest)
    same_length = [f"{digits[:i]}[0-{int(digit) - 1}][0-9]{{{len(digits) - i - 1}}}"
                   for i, digit in enumerate(digits) if digit != "0"]
    return "|".join([f"[0-9]{{1,{len(digits) - 1}}}", *same_length, digits])


class IdConverter(IntegerConverter):
    """<int:...> of every route: 0 to LARGEST. A larger number matches no route at all, so that
    it is a 404 whatever the method (a converter's refusal would be a 405 beside another
    method's route)."""

    regex = f"(?:{_numbers_up_to(LARGEST)})"

    def __init__(self, map, *args, **kwargs):
        kwargs.setdefault("max", LARGEST)
        super().__init__(map, *args, **kwargs)
