"""List Management: the opt-out lists of a channel, their settings, contacts and Tracking tab."""
import sqlalchemy as sa
from flask import current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy.orm import selectinload

from .. import catalog, imports
from ..bulk_views import bulk_context
from ..access import visible_lists_query
from ..crud import deleted, saved
from ..contact_changes import (ListNotWritable, Origin, add_contacts, origin_for,
                               remove_contacts_by_md5)
from ..extensions import db
from ..guards import admin_only, guard_blueprint, list_or_404
from ..models import Channel, Contact, ContactSource, Level, OptOutList
from ..normalize import InvalidContact, typed_md5
from ..pagination import keyset_page
from ..rendering import is_htmx, render
from ..tracking.panel import panel_context
from ..validation import Invalid
from . import bp
from .forms import AddContactForm, ListForm, UploadForm, attribution_choices

CHANNEL = "<any(email, phone):channel>"
LIST = CHANNEL + "/<int:list_id>"


guard_blueprint(bp, "lists")


@bp.route(f"/{CHANNEL}/")
def index(channel):
    """The opt-out lists of a channel that the user may open, newest first."""
    query = visible_lists_query(current_user, channel).options(
        selectinload(OptOutList.owner), selectinload(OptOutList.members))
    page = keyset_page(db.session, query, OptOutList.id, request.args)
    return render_template("lists/index.html", channel=Channel(channel), page=page)


@bp.route(f"/{CHANNEL}/new", methods=["GET", "POST"])
@admin_only
def new(channel):
    """Create an opt-out list."""
    opt_out_list = OptOutList(channel=Channel(channel))
    form = ListForm(opt_out_list, current_user)
    if saved(form, opt_out_list, catalog.apply_list,
             lambda created: f"Opt-out list “{created.name}” created."):
        return redirect(url_for(".edit", channel=channel, list_id=opt_out_list.id))
    return render_template("lists/form.html", channel=opt_out_list.channel, form=form,
                           opt_out_list=None)


@bp.route(f"/{LIST}/edit", methods=["GET", "POST"])
def edit(channel, list_id):
    """The Settings tab of an opt-out list."""
    opt_out_list = list_or_404(list_id, channel)
    form = ListForm(opt_out_list, current_user)
    if saved(form, opt_out_list, catalog.apply_list, "Settings saved."):
        return redirect(url_for(".edit", channel=channel, list_id=list_id))
    downloads = bulk_context(opt_out_list, current_user) if opt_out_list.is_grouped else {}
    return render_template("lists/form.html", channel=opt_out_list.channel, form=form,
                           opt_out_list=opt_out_list, **downloads)


@bp.route(f"/{LIST}/delete", methods=["POST"])
@admin_only
def delete(channel, list_id):
    """Delete an opt-out list, unless it holds contacts or has history."""
    opt_out_list = list_or_404(list_id, channel)
    deleted(opt_out_list, catalog.list_in_use(opt_out_list), f"Opt-out list “{opt_out_list.name}”")
    return redirect(url_for(".index", channel=channel))


@bp.route(f"/{LIST}/tracking")
def tracking(channel, list_id):
    """The Tracking tab of an opt-out list: its rules."""
    opt_out_list = list_or_404(list_id, channel)
    return render_template("lists/tracking.html", opt_out_list=opt_out_list,
                           **panel_context(Level.of_list(opt_out_list.channel), opt_out_list))


@bp.route(f"/{LIST}/contacts", methods=["GET", "POST"])
def contacts(channel, list_id):
    """The Contacts tab; POST adds one contact. htmx gets the contacts block only."""
    opt_out_list = list_or_404(list_id, channel)
    choices = attribution_choices(opt_out_list, current_user)
    form = AddContactForm(opt_out_list, choices)
    message = form.validate_on_submit() and _add_contact(opt_out_list, form)
    if message and not is_htmx():
        flash(message)
        return redirect(url_for(".contacts", channel=channel, list_id=list_id))
    if message:
        form = AddContactForm(opt_out_list, choices, formdata=None)
    return contacts_tab(opt_out_list, form, choices, message)


def _add_contact(opt_out_list, form):
    """Add the form's contact: what happened, or None with the reason beside its field."""
    try:
        origin = origin_for(opt_out_list, ContactSource.MANUAL, form.mailer_id.data,
                            form.campaign_id.data, current_user)
        outcome = add_contacts(opt_out_list, [form.value.data], origin)
    except Invalid as exc:
        exc.show_on(form)
        return None
    except ListNotWritable as exc:
        form.value.errors.append(str(exc))
        return None
    if outcome.invalid:
        form.value.errors.append(outcome.invalid[0]["error"])
        return None
    return "Added to the list." if outcome.changed else "Already in the list."


@bp.route(f"/{LIST}/contacts/delete", methods=["POST"])
def delete_contact(channel, list_id):
    """Delete one contact, named by its MD5 (all an MD5-only list keeps)."""
    opt_out_list = list_or_404(list_id, channel)
    try:
        outcome = remove_contacts_by_md5(opt_out_list, [request.form.get("md5", "")],
                                         Origin(ContactSource.MANUAL))
        message = "Deleted from the list." if outcome.changed else "Not in the list."
    except ListNotWritable as exc:
        message = str(exc)
    return after_deleting(opt_out_list, message)


def after_deleting(opt_out_list, message):
    """The answer to a delete from the Contacts tab: the tab with its message for htmx, else a
    redirect to it with the message flashed."""
    if not is_htmx():
        flash(message)
        return redirect(url_for(".contacts", channel=opt_out_list.channel.value,
                                list_id=opt_out_list.id))
    choices = attribution_choices(opt_out_list, current_user)
    return contacts_tab(opt_out_list, AddContactForm(opt_out_list, choices, formdata=None),
                        choices, message)


def contacts_tab(opt_out_list, form, choices, message=None, upload_form=None, status=200):
    """The Contacts tab at the page and search of the query string, newest contacts first, with
    the upload, the latest imports and the downloads (a Single list's: a Grouped one shows its
    lists); `choices` are the forms' attribution_choices."""
    search = request.args.get("q", "").strip()
    query = (sa.select(Contact).where(Contact.list_id == opt_out_list.id)
             .options(selectinload(Contact.mailer), selectinload(Contact.campaign)))
    search_error = None
    if search:
        try:
            query = query.where(Contact.md5 == typed_md5(search, opt_out_list.channel))
        except InvalidContact as exc:
            query, search_error = query.where(sa.false()), str(exc)
    page = keyset_page(db.session, query, Contact.id, request.args,
                       current_app.config["CONTACTS_PER_PAGE"])
    bulk = {} if opt_out_list.is_grouped else {
        "upload_form": upload_form or UploadForm(choices, formdata=None),
        "imports": imports.latest(opt_out_list), **bulk_context(opt_out_list, current_user)}
    return render("lists/contacts.html", block="contacts", opt_out_list=opt_out_list, form=form,
                  message=message, search=search, search_error=search_error, page=page,
                  **bulk), status
