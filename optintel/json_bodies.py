"""Reading a JSON request body strictly: nested at most MAX_DEPTH deep, numbers that are numbers
(no NaN, Infinity, nor a float that overflows to it), and any other fault a Refused, which the
API answers 400, rather than an exception of the parser that would be a 500."""
import json
import math

MAX_DEPTH = 32


class Refused(ValueError):
    """The body is not JSON this app reads; the message says why."""


def _no_constant(name):
    raise Refused(f"{name} is not a number JSON allows.")


def _finite(text):
    number = float(text)
    if not math.isfinite(number):
        raise Refused(f"The number {text[:20]} is too large.")
    return number


def _depth(value):
    """How deep the containers of a parsed document nest (a flat object is 1)."""
    deepest, stack = 0, [(value, 1)] if isinstance(value, (dict, list)) else []
    while stack:
        item, depth = stack.pop()
        children = item.values() if isinstance(item, dict) else item
        deepest = max(deepest, depth)
        stack.extend((child, depth + 1) for child in children if isinstance(child, (dict, list)))
    return deepest


def loads(data):
    """The document of `data` (bytes or text); Refused when it is not one this app reads."""
    deep = Refused(f"The JSON body is nested more than {MAX_DEPTH} levels deep.")
    try:
        text = data.decode("utf-8") if isinstance(data, bytes) else data
        value = json.loads(text, parse_constant=_no_constant, parse_float=_finite)
    except Refused:
        raise
    except RecursionError:
        raise deep from None
    except ValueError:  # not JSON, not UTF-8, or an integer past Python's digit limit
        raise Refused("Invalid JSON body.") from None
    if _depth(value) > MAX_DEPTH:
        raise deep
    return value
