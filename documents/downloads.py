"""The answer to "download this document", shared by the API and the admin (same authorization
happens before: the caller's clinic and role). Every download is recorded (DocumentAccess)."""

from django.http import FileResponse, HttpResponseRedirect
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext as _

from documents import services, storage
from documents.models import Document, DocumentStatus, DocumentVersion
from keneyapp.accounts.models import User
from keneyapp.core.errors import ConflictError


def download_response(
    *, document: Document, user: User, through: str, version: DocumentVersion | None = None
):
    """S3: a redirect to a presigned GET valid DOCUMENT_DOWNLOAD_EXPIRY_SECONDS, which makes the
    browser save the file (Content-Disposition: attachment) under its cleaned name. Local storage:
    the file itself, streamed in chunks, as an attachment. `version`: an older version's file
    (the caller loaded it from this document)."""
    if document.status != DocumentStatus.READY:
        raise ConflictError(_("This document has no file yet."), code="not_ready")
    source = version or document
    services.record_download(document=document, user=user, through=through, version=source.version)
    filename = services.clean_display_filename(source.original_filename)
    if storage.uses_s3():
        url = storage.presigned_download_url(
            source.storage_key, filename=filename, content_type=source.content_type
        )
        response = HttpResponseRedirect(url)
    else:
        response = FileResponse(
            storage.open_local(source.storage_key),
            as_attachment=True,
            filename=filename,
            content_type=source.content_type,
        )
    # Neither the redirect (it carries a signed URL) nor the file may be kept by a shared cache.
    add_never_cache_headers(response)
    response.headers["Cache-Control"] += ", private"
    return response
