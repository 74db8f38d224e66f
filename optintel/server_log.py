"""What the server's log records, and what it must never hold: secrets, the contacts of a
list, the contacts people search for. Its level and format; libraries whose lines quote
request URLs held back; URLs shown without their password; failures logged with their type and
stack but without their message, which may quote a contact, a URL's token or an SMTP reply
(the attempt or the error page keeps it for whoever may read it)."""
import logging
import sys
import traceback

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
HELD_BACK = {
    "alembic": logging.WARNING,
    # urllib3 names the full request URL (query strings hold contacts and tokens) in its DEBUG
    # line of every request and in its warnings; attempts record what went wrong anyway.
    "urllib3": logging.ERROR,
}
LEFT_OUT = "(message left out of the log)"


def configure(app):
    """The root logger at OPTINTEL_LOG_LEVEL, one line a record, libraries held back."""
    logging.basicConfig(level=app.config["OPTINTEL_LOG_LEVEL"], format=FORMAT)
    for name, level in HELD_BACK.items():
        logging.getLogger(name).setLevel(level)


def without_password(url):
    """The URL with its password masked and its query (where a password can also be) left
    out: for logging a connection URL."""
    scheme, sep, rest = url.split("?", 1)[0].split("#", 1)[0].partition("://")
    netloc, slash, path = rest.partition("/")
    userinfo, at, hostport = netloc.rpartition("@")
    if at and ":" in userinfo:
        netloc = userinfo.split(":", 1)[0] + ":***@" + hostport
    return f"{scheme}{sep}{netloc}{slash}{path}"


def stack_without_messages(exc):
    """The traceback of an exception and of those it came from, without their messages."""
    chain, seen = [], set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        chain.append("Traceback (most recent call last):\n"
                     + "".join(traceback.format_tb(exc.__traceback__))
                     + f"{type(exc).__module__}.{type(exc).__qualname__}: {LEFT_OUT}\n")
        exc = exc.__cause__ or (None if exc.__suppress_context__ else exc.__context__)
    return "\nwhich came from\n\n".join(chain)


def log_failure(logger, message, *args):
    """Log the exception being handled at ERROR, as logger.exception would, minus its message."""
    logger.error(message + "\n%s", *args, stack_without_messages(sys.exc_info()[1]))
