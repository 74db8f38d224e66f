"""What the API's endpoints share: saving through the catalog, deleting what is not in use, and
reading a collection by keyset after an id."""
from flask_smorest import abort

from ..extensions import db


def save(obj, apply, values):
    """Apply the values to `obj` by `apply` (a catalog function; Invalid becomes 422) and
    commit; returns obj."""
    apply(obj, **values)
    db.session.add(obj)
    db.session.commit()
    return obj


def delete_unless_in_use(obj, reason):
    """Delete `obj`, or 409 with `reason` (why it is in use)."""
    if reason:
        abort(409, message=reason)
    db.session.delete(obj)
    db.session.commit()


def page_after(query, id_column, after_id, limit, newest_first=False):
    """{"items", "next_after_id"}: up to `limit` rows of `query` after `after_id`, in ascending
    id order; newest_first, in descending order below it (from the newest when it is None)."""
    if newest_first:
        if after_id is not None:
            query = query.where(id_column < after_id)
        query = query.order_by(id_column.desc())
    else:
        query = query.where(id_column > after_id).order_by(id_column)
    rows = db.session.scalars(query.limit(limit + 1)).all()
    items = rows[:limit]
    return {"items": items, "next_after_id": items[-1].id if len(rows) > limit else None}
