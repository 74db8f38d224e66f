"""Keyset pagination by id, newest first: no OFFSET scans and no COUNT over the table."""
from dataclasses import dataclass

from .ids import to_id


@dataclass
class Page:
    items: list
    next_args: dict | None  # query args of the next (older) page, None on the last
    prev_args: dict | None  # query args of the previous (newer) page, None on the first


def keyset_page(session, query, id_column, args, per_page=50):
    """One page of `query` ordered by id_column descending, positioned by ?after= or ?before=."""
    after, before = args.get("after", type=to_id), args.get("before", type=to_id)
    if before is not None:
        rows = session.scalars(query.where(id_column > before).order_by(id_column.asc())
                               .limit(per_page + 1)).all()
        has_newer = len(rows) > per_page
        items = list(reversed(rows[:per_page]))
        has_older = True
    else:
        if after is not None:
            query = query.where(id_column < after)
        rows = session.scalars(query.order_by(id_column.desc()).limit(per_page + 1)).all()
        items, has_older, has_newer = rows[:per_page], len(rows) > per_page, after is not None
    key = id_column.key
    return Page(
        items=items,
        next_args={"after": getattr(items[-1], key)} if items and has_older else None,
        prev_args={"before": getattr(items[0], key)} if items and has_newer else None,
    )
