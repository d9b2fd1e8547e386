"""Where document bytes live: the "documents" storage of settings.STORAGES.

S3 (any S3-compatible service, through django-storages) when S3_BUCKET is set, else a private folder
(DOCUMENTS_ROOT) that nothing serves. Everything the rest of the app needs from storage is here, so
no other module knows which one is in use: saving a streamed file, reading an object in chunks,
its size, presigned POST (direct uploads) and GET (downloads) URLs.

S3 that cannot be reached (refused, timed out, dropped, answering 5xx after the retries) raises
StorageUnavailable, which the API answers 503 `storage_unavailable` (keneyapp.core.errors). Every
call to S3 is bounded: S3_CONNECT_TIMEOUT_SECONDS, S3_READ_TIMEOUT_SECONDS and S3_MAX_ATTEMPTS.
Presigned URLs are signed here without calling S3, so presigning and downloads answer while S3
is down (the client meets the outage at S3 itself).
"""

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from boto3.exceptions import S3UploadFailedError
from boto3.s3.transfer import TransferConfig
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError, HTTPClientError
from botocore.exceptions import ConnectionError as EndpointUnreachable
from django.conf import settings
from django.core.files import File
from django.core.files.storage import Storage, storages
from django.utils.http import content_disposition_header
from django.utils.translation import gettext_lazy
from storages.backends.s3 import S3Storage

from keneyapp.core.errors import ServiceUnavailable

MIB = 1024 * 1024


class DocumentS3Storage(S3Storage):
    """django-storages' S3Storage, uploading in one streamed PUT from the spooled file.

    boto3's default transfer reads 8 MiB parts into memory, with up to 10 threads: a 10 MiB upload
    would cost ~10 MiB of memory per request. One PUT streams from the file instead; files above
    64 MiB (beyond any sane DOCUMENT_MAX_BYTES) still go multipart, one 8 MiB part at a time.
    """

    def __init__(self, **settings_overrides):
        super().__init__(**settings_overrides)
        self.transfer_config = TransferConfig(
            multipart_threshold=64 * MIB, multipart_chunksize=8 * MIB, use_threads=False
        )
        # botocore's defaults are 60 s to connect, 60 s per read and 5 attempts (legacy retries):
        # a request could wait ten minutes on an endpoint that accepts and never answers. Merged
        # into whatever client config was given (addressing style, signature version).
        self.client_config = self.client_config.merge(
            Config(
                connect_timeout=settings.S3_CONNECT_TIMEOUT_SECONDS,
                read_timeout=settings.S3_READ_TIMEOUT_SECONDS,
                retries={"max_attempts": settings.S3_MAX_ATTEMPTS, "mode": "standard"},
            )
        )


class StorageUnavailable(ServiceUnavailable):
    """S3 cannot be reached: the API answers 503 `storage_unavailable` with Retry-After."""

    default_code = "storage_unavailable"
    default_detail = gettext_lazy("Document storage is unavailable; try again shortly.")


def _is_outage(error: BaseException) -> bool:
    if isinstance(error, (EndpointUnreachable, HTTPClientError)):  # refused, timed out, dropped
        return True
    if isinstance(error, ClientError):  # 5xx after the retries (InternalError, SlowDown...)
        return int(error.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0) >= 500
    if isinstance(error, S3UploadFailedError):  # boto3's upload wraps the ClientError it met
        cause = error.__cause__ or error.__context__
        return cause is not None and _is_outage(cause)
    return False


@contextmanager
def storage_reachable():
    """Turn S3 being unreachable into StorageUnavailable; anything else (a 403 from a wrong policy,
    missing credentials) stays what it is: a configuration error, answered 500 and logged."""
    try:
        yield
    except (BotoCoreError, ClientError, S3UploadFailedError) as error:
        if not _is_outage(error):
            raise
        raise StorageUnavailable() from error


class ObjectMissing(Exception):
    """No object under the key (never uploaded, or already removed)."""


def document_storage() -> Storage:
    return storages["documents"]


def uses_s3(storage: Storage | None = None) -> bool:
    return isinstance(storage or document_storage(), S3Storage)


def new_storage_key(tenant_id: int) -> str:
    """A key nobody can guess or steer: the clinic's prefix and 128 random bits. The client's file
    name takes no part (no path tricks, no collisions, nothing personal in the bucket's listing)."""
    return f"{KEY_PREFIX}{int(tenant_id)}/{uuid.uuid4().hex}"


def save_file(key: str, fileobj, *, content_type: str) -> str:
    """Store an open (seekable) file under `key`, streamed; returns the key actually used."""
    wrapped = File(fileobj, name=key)
    wrapped.content_type = content_type  # S3: the object's Content-Type
    with storage_reachable():
        stored = document_storage().save(key, wrapped)
    if stored != key:  # a random key never clashes; if it ever did, the row must name the real one
        return stored
    return key


def delete_object(key: str) -> None:
    """Remove the object if it exists (deleting nothing is not an error)."""
    storage = document_storage()
    with storage_reachable():
        if uses_s3(storage) or storage.exists(key):  # S3 deletes a missing key without error
            storage.delete(key)


def object_exists(key: str) -> bool:
    with storage_reachable():
        return document_storage().exists(key)


def object_size(key: str) -> int:
    """The stored object's size in bytes; ObjectMissing if there is none."""
    storage = document_storage()
    if uses_s3(storage):
        try:
            with storage_reachable():
                head = storage.connection.meta.client.head_object(Bucket=storage.bucket_name, Key=key)
        except ClientError as error:
            if error.response.get("ResponseMetadata", {}).get("HTTPStatusCode") == 404:
                raise ObjectMissing(key) from None
            raise
        return int(head["ContentLength"])
    if not storage.exists(key):
        raise ObjectMissing(key)
    return storage.size(key)


def iter_object(key: str, chunk_size: int | None = None) -> Iterator[bytes]:
    """The object's bytes in chunks, never all in memory (S3: a streamed GET)."""
    chunk_size = chunk_size or settings.DOCUMENT_UPLOAD_CHUNK_BYTES
    storage = document_storage()
    if uses_s3(storage):
        try:
            with storage_reachable():
                body = storage.connection.meta.client.get_object(Bucket=storage.bucket_name, Key=key)["Body"]
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") in {"NoSuchKey", "404"}:
                raise ObjectMissing(key) from None
            raise
        try:
            with storage_reachable():  # the stream may time out or drop midway
                yield from body.iter_chunks(chunk_size)
        finally:
            body.close()
        return
    if not storage.exists(key):
        raise ObjectMissing(key)
    with storage.open(key, "rb") as handle:
        while chunk := handle.read(chunk_size):
            yield chunk


KEY_PREFIX = "documents/"


def list_stored(page_size: int = 1000) -> Iterator[list[tuple[str, datetime]]]:
    """Every stored document object (under KEY_PREFIX), a page at a time: (key, when it was
    stored, aware). For the orphan sweep; never the whole bucket in memory."""
    storage = document_storage()
    if uses_s3(storage):
        client = storage.connection.meta.client
        pages = client.get_paginator("list_objects_v2").paginate(
            Bucket=storage.bucket_name, Prefix=KEY_PREFIX, PaginationConfig={"PageSize": page_size}
        )
        with storage_reachable():
            for listing in pages:
                yield [(item["Key"], item["LastModified"]) for item in listing.get("Contents", ())]
        return
    root = Path(storage.location)
    page: list[tuple[str, datetime]] = []
    for folder, _, files in os.walk(root / KEY_PREFIX):
        for file_name in files:
            path = Path(folder) / file_name
            page.append(
                (path.relative_to(root).as_posix(), datetime.fromtimestamp(path.stat().st_mtime, UTC))
            )
            if len(page) >= page_size:
                yield page
                page = []
    if page:
        yield page


def open_local(key: str):
    """The local object as an open binary file (for FileResponse); local storage only."""
    return document_storage().open(key, "rb")


def presigned_download_url(key: str, *, filename: str, content_type: str) -> str:
    """A short-lived GET URL that makes the browser save the file under a safe name."""
    storage = document_storage()
    return storage.connection.meta.client.generate_presigned_url(
        "get_object",
        Params={
            "Bucket": storage.bucket_name,
            "Key": key,
            "ResponseContentDisposition": content_disposition_header(True, filename),
            "ResponseContentType": content_type,
        },
        ExpiresIn=settings.DOCUMENT_DOWNLOAD_EXPIRY_SECONDS,
    )


def presigned_upload(key: str, *, content_type: str, max_bytes: int, expires_in: int) -> dict:
    """A presigned POST that S3 itself enforces: this key only, exactly this Content-Type, and a
    size between 1 byte and `max_bytes`; it stops working after `expires_in` seconds."""
    storage = document_storage()
    return storage.connection.meta.client.generate_presigned_post(
        Bucket=storage.bucket_name,
        Key=key,
        Fields={"Content-Type": content_type},
        Conditions=[{"Content-Type": content_type}, ["content-length-range", 1, max_bytes]],
        ExpiresIn=expires_in,
    )


def ensure_bucket() -> bool:
    """Create the S3 bucket if it is missing (tests, CI, a fresh MinIO); True if created.

    Production buckets are provisioned with their policies by the operator; this never changes one.
    """
    storage = document_storage()
    if not uses_s3(storage):
        return False
    client = storage.connection.meta.client
    try:
        client.head_bucket(Bucket=storage.bucket_name)
        return False
    except ClientError:
        region = client.meta.region_name
        location = (
            {}
            if region in (None, "us-east-1")
            else {"CreateBucketConfiguration": {"LocationConstraint": region}}
        )
        client.create_bucket(Bucket=storage.bucket_name, **location)
        return True
