"""The page of an unsubscribe link: GET shows the campaign's name and an email field (filled in
when the link names the address); POST unsubscribes and confirms. A POST whose body is
`List-Unsubscribe=One-Click` (RFC 8058) unsubscribes the address the link names at once.

The POST is exempt from CSRF: it acts with no cookie or session, only with the signed link,
and a mailbox provider's one-click POST carries no token. So that another site cannot make its
visitors' browsers unsubscribe addresses they type (beyond each address's own rate limit), a
form POST that a browser says came from another site is refused; one-click needs none of this,
as it unsubscribes only the address the link names."""
from flask import abort, request, url_for

from .. import unsubscribe_links
from ..extensions import csrf
from ..normalize import InvalidContact
from ..public_urls import public_origin
from . import bp
from .forms import UnsubscribeForm
from .pages import render

ONE_CLICK = ("List-Unsubscribe", "One-Click")
NOT_VALID = ("This unsubscribe link is not valid: it was changed, or its campaign or mailer is "
             "no longer active.")


def _token():
    return request.args.get(unsubscribe_links.TOKEN, "")


def _link_or_404():
    return unsubscribe_links.follow(_token()) or abort(404, NOT_VALID)


def _page(link, form):
    action = url_for(".unsubscribe", **{unsubscribe_links.TOKEN: _token()})
    return render("public/unsubscribe.html", link=link, form=form, action=action)


def _confirmed(link, email):
    return render("public/unsubscribed.html", link=link, email=email)


def _from_another_site():
    """Whether the browser says the request came from a page of another site."""
    fetch_site = request.headers.get("Sec-Fetch-Site")
    if fetch_site is not None:
        return fetch_site not in ("same-origin", "none")
    origin = request.headers.get("Origin")
    return origin is not None and origin not in (request.host_url.rstrip("/"), public_origin())


@bp.get("/unsubscribe")
def unsubscribe_page():
    """The page of the link: the campaign, the address, the Unsubscribe button."""
    link = _link_or_404()
    return _page(link, UnsubscribeForm(data={"email": link.email or ""}))


@bp.post("/unsubscribe")
@csrf.exempt
def unsubscribe():
    """Unsubscribe the address typed, or (one-click) the one the link names; confirm."""
    link = _link_or_404()
    if request.form.get(ONE_CLICK[0]) == ONE_CLICK[1]:
        if link.email is None:
            abort(400, "This link names no address: open it to type yours.")
        return _confirmed(link, unsubscribe_links.unsubscribe(link, link.email))
    if _from_another_site():
        abort(403, "Open the link itself to unsubscribe.")
    form = UnsubscribeForm(request.form)
    try:
        return _confirmed(link, unsubscribe_links.unsubscribe(link, form.email.data))
    except InvalidContact as exc:
        form.email.errors = [str(exc)]
        return _page(link, form)
