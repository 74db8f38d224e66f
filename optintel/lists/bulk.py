"""A list's pages in bulk: uploading a file (progress, cancel, invalid-lines report), Delete
selected, and downloads."""
from flask import abort, current_app, flash, redirect, request, url_for
from flask_login import current_user

from .. import imports
from ..bulk_views import download_response, invalid_lines_response, start_import
from ..contact_changes import ListNotWritable, Origin, remove_contacts_by_md5
from ..guards import list_or_404
from ..models import ContactSource
from ..rendering import is_htmx, render, triggers
from ..uploads import accept_uploads
from ..validation import Invalid
from . import bp
from .forms import AddContactForm, UploadForm, attribution_choices
from .routes import LIST, after_deleting, contacts_tab

accept_uploads(bp, "upload")


def _import_or_404(opt_out_list, import_id):
    return imports.of_list(opt_out_list, import_id) or abort(404)


@bp.route(f"/{LIST}/imports", methods=["POST"])
def upload(channel, list_id):
    """Upload a file to import; the Contacts tab then shows its progress."""
    opt_out_list = list_or_404(list_id, channel)
    choices = attribution_choices(opt_out_list, current_user)
    form, message = UploadForm(choices), None
    if form.validate_on_submit():
        try:
            contact_import = start_import(opt_out_list, request.form, request.files, current_user)
        except Invalid as exc:
            exc.show_on(form)
        except ListNotWritable as exc:
            message = str(exc)  # a Grouped list: its tab has no upload form to show it beside
        else:
            flash(f"“{contact_import.file_name}”: {contact_import.total:,} value"
                  f"{'' if contact_import.total == 1 else 's'} to import.")
            return redirect(url_for(".contacts", channel=channel, list_id=list_id))
    return contacts_tab(opt_out_list, AddContactForm(opt_out_list, choices, formdata=None),
                        choices, message, upload_form=form, status=422)


def _progress(opt_out_list, contact_import):
    """The import's progress card; once it has ended, the Contacts tab is told to refresh."""
    card = render("lists/_import.html", opt_out_list=opt_out_list, contact_import=contact_import)
    if not contact_import.status.in_flight and is_htmx():
        return card, triggers(contactsChanged=None)
    return card


@bp.route(f"/{LIST}/imports/<int:import_id>")
def import_progress(channel, list_id, import_id):
    """An import's progress card (polled while it runs)."""
    opt_out_list = list_or_404(list_id, channel)
    return _progress(opt_out_list, _import_or_404(opt_out_list, import_id))


@bp.route(f"/{LIST}/imports/<int:import_id>/cancel", methods=["POST"])
def cancel_import(channel, list_id, import_id):
    """Stop an import at its next chunk."""
    opt_out_list = list_or_404(list_id, channel)
    contact_import = _import_or_404(opt_out_list, import_id)
    imports.cancel(contact_import)
    if not is_htmx():
        return redirect(url_for(".contacts", channel=channel, list_id=list_id))
    return _progress(opt_out_list, contact_import)


@bp.route(f"/{LIST}/imports/<int:import_id>/invalid-lines")
def import_invalid_lines(channel, list_id, import_id):
    """The invalid-lines report of an import, as CSV."""
    return invalid_lines_response(_import_or_404(list_or_404(list_id, channel), import_id))


@bp.route(f"/{LIST}/contacts/delete-selected", methods=["POST"])
def delete_selected(channel, list_id):
    """Delete the contacts whose rows were selected (by MD5), each firing Contact Deleted."""
    opt_out_list = list_or_404(list_id, channel)
    md5s = request.form.getlist("md5")[:current_app.config["OPTINTEL_MAX_BATCH"]]
    try:
        outcome = remove_contacts_by_md5(opt_out_list, md5s, Origin(ContactSource.MANUAL))
        message = (f"Deleted {outcome.changed} contact{'' if outcome.changed == 1 else 's'} "
                   f"from the list." if md5s else "Select the contacts to delete first.")
    except ListNotWritable as exc:
        message = str(exc)
    return after_deleting(opt_out_list, message)


@bp.route(f"/{LIST}/download")
def download(channel, list_id):
    """Download the list in a format (recorded)."""
    opt_out_list = list_or_404(list_id, channel)
    try:
        return download_response(opt_out_list, request.args.get("format", ""), current_user)
    except Invalid as exc:
        abort(422, description=" ".join(exc.fields["format"]))
