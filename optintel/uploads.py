"""Routes that take a file: their request bodies may be as large as OPTINTEL_MAX_UPLOAD_BYTES,
unlike ordinary requests, and a larger one answers 413 with a message that says the limit
(errors.handle_too_large)."""
from flask import current_app, request


def too_large_message(limit):
    """What a user reads when the file is over the limit."""
    size = f"{limit / (1 << 20):g} MB" if limit >= 1 << 20 else f"{limit:,} bytes"
    return f"The file is larger than the upload limit of {size}."


def accept_uploads(bp, *endpoints):
    """Let the blueprint's `endpoints` (view names) take bodies up to the upload limit. Set
    before any before_request hook (CSRF reads the form), so that every part of the request
    reads the body under this limit."""
    names = {f"{bp.name}.{endpoint}" for endpoint in endpoints}

    @bp.url_value_preprocessor
    def allow_upload_size(endpoint, _values):
        if endpoint in names:
            request.max_content_length = current_app.config["OPTINTEL_MAX_UPLOAD_BYTES"]
