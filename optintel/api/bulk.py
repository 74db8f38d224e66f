"""The bulk routes of a channel's lists: file imports (add or delete) with their progress and
invalid-lines report, and downloads of a list."""
from flask import request
from flask_login import current_user
from flask_smorest import abort

from .. import imports
from ..bulk_views import download_response, invalid_lines_response, start_import
from ..uploads import accept_uploads
from . import fails_with
from .schemas import UPLOAD_BODY, ImportSchema

FORMAT_PARAMETER = {"in": "query", "name": "format", "required": True,
                    "schema": {"type": "string", "enum": ["plain", "md5", "csv"]},
                    "description": "plain (Plain & MD5 lists only), md5, or csv with both and "
                                   "the date each contact arrived."}


def add_bulk_routes(bp, get_list):
    """Add the import and download routes to a channel's API blueprint."""
    accept_uploads(bp, "create_import")

    def get_import(list_id, import_id):
        return imports.of_list(get_list(list_id), import_id) or abort(404)

    @bp.route("/<int:list_id>/imports", methods=["POST"])
    @fails_with(bp, 403, 404, 409, 413, 422)
    @bp.doc(requestBody=UPLOAD_BODY)
    @bp.response(202, ImportSchema)
    def create_import(list_id):
        """Upload a file of values to add to (or, mode=delete, delete from) a Single list; the
        workers import it, each added contact firing Contact Added (source File upload), each
        deleted one Contact Deleted. Poll the import for its progress."""
        return start_import(get_list(list_id), request.form, request.files, current_user)

    @bp.route("/<int:list_id>/imports/<int:import_id>", methods=["GET"])
    @fails_with(bp, 403, 404)
    @bp.response(200, ImportSchema)
    def show_import(list_id, import_id):
        """An import's status and counts."""
        return get_import(list_id, import_id)

    @bp.route("/<int:list_id>/imports/<int:import_id>/cancel", methods=["POST"])
    @fails_with(bp, 403, 404)
    @bp.response(200, ImportSchema)
    def cancel_import(list_id, import_id):
        """Stop an import at its next chunk; what it did so far stays."""
        contact_import = get_import(list_id, import_id)
        imports.cancel(contact_import)
        return contact_import

    @bp.route("/<int:list_id>/imports/<int:import_id>/invalid-lines", methods=["GET"])
    @fails_with(bp, 403, 404)
    @bp.doc(responses={"200": {"description": "CSV: line, value (empty for MD5-only lists), "
                                              "reason.", "content": {"text/csv": {}}}})
    def import_invalid_lines(list_id, import_id):
        """The invalid lines of an import so far, as CSV."""
        return invalid_lines_response(get_import(list_id, import_id))

    @bp.route("/<int:list_id>/download", methods=["GET"])
    @fails_with(bp, 403, 404, 422)
    @bp.doc(parameters=[FORMAT_PARAMETER],
            responses={"200": {"description": "The list, streamed: one value a line, or CSV.",
                               "content": {"text/plain": {}, "text/csv": {}}}})
    def download(list_id):
        """Download the list (a Grouped list: its lists' contacts, each once); recorded."""
        return download_response(get_list(list_id), request.args.get("format", ""),
                                 current_user)
