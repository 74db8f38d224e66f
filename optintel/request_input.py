"""What a request may hold, beyond the size that Flask's MAX_CONTENT_LENGTH bounds: JSON read
strictly — nested at most MAX_DEPTH deep, numbers that are numbers (no NaN, no Infinity, no float
that overflows to it) — and no NUL character in any text, which PostgreSQL cannot store. What
breaks these is a 400, never an exception deeper down that would be a 500."""
import json
import math

from flask import abort, request

MAX_DEPTH = 32
NUL = "\x00"
NO_NUL = "Text may not contain the NUL character (U+0000)."


class Refused(ValueError):
    """The body is not JSON this app reads; the message says why."""


def _no_constant(name):
    raise Refused(f"{name} is not a number JSON allows.")


def _finite(text):
    number = float(text)
    if not math.isfinite(number):
        raise Refused(f"The number {text[:20]} is too large.")
    return number


def _check(value):
    """Refused if the parsed document nests deeper than MAX_DEPTH or holds a NUL in a text."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, str):
            if NUL in item:
                raise Refused(NO_NUL)
            continue
        if not isinstance(item, (dict, list)):
            continue
        if depth > MAX_DEPTH:
            raise Refused(f"The JSON body is nested more than {MAX_DEPTH} levels deep.")
        children = [*item, *item.values()] if isinstance(item, dict) else item
        stack.extend((child, depth + 1) for child in children)


def loads(data):
    """The document of `data` (bytes or text); Refused when it is not one this app reads."""
    try:
        text = data.decode("utf-8") if isinstance(data, bytes) else data
        value = json.loads(text, parse_constant=_no_constant, parse_float=_finite)
    except Refused:
        raise
    except RecursionError:
        raise Refused(f"The JSON body is nested more than {MAX_DEPTH} levels deep.") from None
    except ValueError:  # not JSON, not UTF-8, or an integer past Python's digit limit
        raise Refused("Invalid JSON body.") from None
    _check(value)
    return value


def _refuse_nul():
    """400 for a NUL in the path, the query string, a form or a header."""
    texts = [request.path, *request.args.keys(), *request.args.values(),
             *request.form.keys(), *request.form.values(), *request.headers.values()]
    # str(): generated multipart requests have shown a value of another type here.
    if any(NUL in str(text) for text in texts):
        abort(400, description=NO_NUL)


def init_app(app):
    app.before_request(_refuse_nul)
