"""The one rhythm of the dashboard's create, edit and delete views: the form validates, the
catalog applies it, commit and a message; or the messages beside the fields and nothing saved."""
from flask import flash

from .extensions import db
from .validation import Invalid


def saved(form, obj, apply, message, **extra):
    """Whether the submitted form was applied to `obj` by `apply` (a catalog function taking
    the form's changes() and `extra`) and committed, `message` (text, or a function of obj)
    flashed. On bad input the messages go beside the fields and nothing is saved."""
    if not form.validate_on_submit():
        return False
    try:
        apply(obj, **form.changes(), **extra)
    except Invalid as exc:
        exc.show_on(form)
        return False
    db.session.add(obj)
    db.session.commit()
    flash(message(obj) if callable(message) else message)
    return True


def deleted(obj, reason, label):
    """Delete `obj` unless `reason` (why it is in use) is given; flash what happened, naming it
    by `label`. Whether it was deleted."""
    if reason:
        flash(f"{label} cannot be deleted: {reason}", "error")
        return False
    db.session.delete(obj)
    db.session.commit()
    flash(f"{label} deleted.")
    return True
