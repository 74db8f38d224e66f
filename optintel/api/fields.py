"""Fields of the API's schemas beyond marshmallow's own: integers and lists of ids that the
databases can take, their bounds documented."""
from marshmallow import fields
from marshmallow import validate as checks

from ..ids import LARGEST, MAX_IDS, SMALLEST


def _with(check, validate):
    return [check, *([validate] if callable(validate) else list(validate or []))]


class Integer(fields.Integer):
    """An integer in the range of the database's INTEGER columns (optintel.ids): a larger one is
    a 422 naming its field."""

    def __init__(self, *, validate=None, **kwargs):
        super().__init__(validate=_with(checks.Range(SMALLEST, LARGEST), validate), **kwargs)


class IdList(fields.List):
    """A list of at most MAX_IDS ids (each one a parameter of the SQL that looks them up)."""

    def __init__(self, *, validate=None, **kwargs):
        super().__init__(Integer(), validate=_with(checks.Length(max=MAX_IDS), validate), **kwargs)
