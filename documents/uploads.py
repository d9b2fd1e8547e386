"""Streaming a multipart upload to a temporary file, never into memory (the guide's chunked upload).

`DocumentUploadHandler` replaces Django's upload handlers for the upload endpoints only. Django's
multipart parser hands it the file part in chunks of DOCUMENT_UPLOAD_CHUNK_BYTES (1 MiB); each chunk
is counted, hashed (SHA-256), sniffed and written to a temporary file, then dropped. The size limit is
enforced on the way: the first chunk past DOCUMENT_MAX_BYTES stops the request with 413, without
reading the rest. Memory use is a chunk or two, whatever the file's size.

The other form fields (patient_id, category, title) are small and stay under Django's
DATA_UPLOAD_MAX_MEMORY_SIZE, which counts fields only, never files.
"""

import hashlib
import tempfile

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.core.files.uploadhandler import FileUploadHandler
from django.utils.text import format_lazy
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from rest_framework import status
from rest_framework.exceptions import APIException

from documents.sniffing import Sniffer

FILE_FIELD = "file"


class DocumentTooLarge(APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_code = "file_too_large"

    def __init__(self, max_bytes: int):
        super().__init__(
            _("The file is larger than the limit of %(bytes)s bytes.") % {"bytes": max_bytes},
            "file_too_large",
        )


class UnsupportedDocumentType(APIException):
    status_code = status.HTTP_415_UNSUPPORTED_MEDIA_TYPE
    default_code = "unsupported_file_type"


class OneFileOnly(APIException):
    status_code = status.HTTP_400_BAD_REQUEST
    default_code = "one_file_only"
    default_detail = format_lazy(
        gettext_lazy("Send exactly one file, in the '{field}' field."), field=FILE_FIELD
    )


class StreamedUpload(UploadedFile):
    """The uploaded file, already on disk, with what was learned while it streamed."""

    size: int  # always known: counted while it streamed (Django's UploadedFile allows None)

    def __init__(
        self, file, *, name: str, declared_type: str, size: int, sha256: str, detected_type: str | None
    ):
        super().__init__(file, name=name, content_type=declared_type, size=size)
        self.declared_type = declared_type
        self.sha256 = sha256
        self.detected_type = detected_type

    def temporary_file_path(self) -> str:
        return self.file.name


class DocumentUploadHandler(FileUploadHandler):
    """Accepts one file, in the `file` field; see the module docstring."""

    def __init__(self, request=None, *, max_bytes: int | None = None):
        super().__init__(request)
        self.chunk_size = settings.DOCUMENT_UPLOAD_CHUNK_BYTES
        self.max_bytes = max_bytes if max_bytes is not None else settings.DOCUMENT_MAX_BYTES
        self.spool = None
        self.files_seen = 0
        self.upload: StreamedUpload | None = None

    def new_file(
        self, field_name, file_name, content_type, content_length, charset=None, content_type_extra=None
    ):
        super().new_file(field_name, file_name, content_type, content_length, charset, content_type_extra)
        self.files_seen += 1
        if field_name != FILE_FIELD or self.files_seen > 1:
            self.discard()
            raise OneFileOnly()
        # The part's own Content-Length, when a client sends one, refuses an oversized file at once.
        if content_length is not None and content_length > self.max_bytes:
            raise DocumentTooLarge(self.max_bytes)
        # Closed (and so deleted) by discard() on failure, or by Django at the end of the request.
        self.spool = tempfile.NamedTemporaryFile(  # noqa: SIM115
            prefix="keneyapp-upload-", dir=settings.FILE_UPLOAD_TEMP_DIR
        )
        self.size = 0
        self.digest = hashlib.sha256()
        self.sniffer = Sniffer()

    def receive_data_chunk(self, raw_data, start):
        self.size += len(raw_data)
        if self.size > self.max_bytes:
            self.discard()
            raise DocumentTooLarge(self.max_bytes)
        self.digest.update(raw_data)
        self.sniffer.feed(raw_data)
        self.spool.write(raw_data)
        return None  # consumed: no later handler gets the bytes

    def file_complete(self, file_size):
        self.spool.flush()
        self.spool.seek(0)
        self.upload = StreamedUpload(
            self.spool,
            name=self.file_name,
            declared_type=self.content_type or "",
            size=self.size,
            sha256=self.digest.hexdigest(),
            detected_type=self.sniffer.detected_type(),
        )
        return self.upload

    def upload_interrupted(self):
        self.discard()

    def discard(self) -> None:
        """Close (and so delete) the temporary file; safe to call more than once."""
        if self.spool is not None:
            self.spool.close()
