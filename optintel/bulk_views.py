"""The request side of imports and downloads, shared by the pages and the API: a request's
file and options into an import, streamed attachments (a list, an invalid-lines report)."""
import csv
import io

from flask import Response, stream_with_context

from . import downloads, imports
from .ids import to_optional_id
from .validation import Invalid


def optional_id(form, name):
    """An id of a form field, None when empty; Invalid when it is not an id (optintel.ids)."""
    try:
        return to_optional_id((form.get(name) or "").strip())
    except ValueError:
        raise Invalid.on(name, "Not an id.") from None


def start_import(opt_out_list, form, files, user):
    """The import of a request's file field and options (pages and API alike)."""
    upload = files.get("file")
    if upload is None or not upload.filename:
        raise Invalid.on("file", "Choose a file to upload.")
    return imports.start(opt_out_list, upload.stream, file_name=upload.filename,
                         mode=form.get("mode"), column=form.get("column"),
                         mailer_id=optional_id(form, "mailer_id"),
                         campaign_id=optional_id(form, "campaign_id"), user=user)


def _invalid_lines_csv(contact_import):
    """The invalid-lines report as CSV text, streamed."""
    yield "line,value,reason\r\n"
    for number, value, reason in imports.invalid_lines(contact_import):
        yield _csv_row(number, value, reason)


def _csv_row(*cells):
    out = io.StringIO()
    csv.writer(out).writerow(cells)
    return out.getvalue()


def _attachment(chunks, name, mimetype):
    """A streamed download of UTF-8 text."""
    return Response(stream_with_context(chunks), mimetype=f"{mimetype}; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


def invalid_lines_response(contact_import):
    """The import's invalid-lines report so far, streamed as a CSV attachment."""
    return _attachment(_invalid_lines_csv(contact_import),
                       f"import-{contact_import.id}-invalid-lines.csv", "text/csv")


def download_response(opt_out_list, fmt, user):
    """Record the download, then stream it."""
    fmt = downloads.check_format(opt_out_list, fmt, user)
    downloads.record(opt_out_list, user, fmt)
    return _attachment(downloads.stream(opt_out_list, fmt, user),
                       downloads.file_name(opt_out_list, fmt), downloads.media_type(fmt))


def bulk_context(opt_out_list, user):
    """What a list's page shows of its downloads: the formats it offers the user and the latest
    ones."""
    return {"download_formats": downloads.formats(opt_out_list, user),
            "downloads": downloads.recent(opt_out_list)}
