"""The error that domain changes raise for bad input: messages by field, shown beside them; and
how much of bad input an answer echoes back."""

# At most this many invalid values are named back in one answer, with how many there were.
ECHOED = 100


def some_of(values):
    """Values for a message: "1, 2, 3", or the first ECHOED of them and how many there were."""
    values = list(values)
    shown = ", ".join(map(str, values[:ECHOED]))
    return shown if len(values) <= ECHOED else f"{shown} … ({len(values):,} in all)"


def first_lines(lines):
    """Messages for a field: the first ECHOED of them, then one saying how many there were."""
    if len(lines) <= ECHOED:
        return lines
    return [*lines[:ECHOED], f"… and {len(lines) - ECHOED:,} more ({len(lines):,} in all)."]


class Invalid(Exception):
    """Bad input: `fields` maps a field name to a list of messages."""

    def __init__(self, fields):
        super().__init__(fields)
        self.fields = fields

    @classmethod
    def on(cls, field, message):
        return cls({field: [message]})

    def show_on(self, form):
        """Put each message beside its field of a WTForms form; others go above the form."""
        for name, messages in self.fields.items():
            if name in form:
                form[name].errors = [*form[name].errors, *messages]
            else:
                form.form_errors.extend(messages)


class Collector:
    """Gathers messages by field, then raises them together."""

    def __init__(self):
        self.fields = {}

    def add(self, field, message):
        self.fields.setdefault(field, []).append(message)

    def raise_if_any(self):
        if self.fields:
            raise Invalid(self.fields)
