"""Free text that carries clinical detail, stored encrypted: AES-256-GCM under FIELD_ENCRYPTION_KEYS.

A stored value is `enc1:<key id>:<base64 of nonce | ciphertext | tag>`. The key id (eight
hex digits of a digest of the key, never the key) says which key wrote the row, so the rotation
command finds in SQL the rows not under the newest key, and a read knows which key to use. GCM is
authenticated: a changed byte, a truncated value or the wrong key raises FieldDecryptionError, never
garbage. Why our own field and not django-fernet-fields or django-cryptography: both are
unmaintained (no release for Django 4 or 5), and this is one small class on `cryptography`.

What is not encrypted, on purpose:
- the empty string (it reveals only that the field is empty, and keeps `blank` checks cheap);
- a value already stored in clear (written before the data migration, or with FIELD_ENCRYPTION
  off): it is read as it is, and `manage.py rotate_field_encryption_keys` encrypts it.

The column is TEXT (ciphertext is longer than the text); `max_length` is the plaintext's limit,
enforced by forms, the admin and model validation as a CharField's is. No lookup but `isnull` is
offered: an equality or `contains` on ciphertext would silently match nothing, so it is refused
(FieldError). Search uses `patients.Patient.search_text`, which holds none of these fields.
"""

import binascii
import contextlib
import contextvars
import hashlib
import os
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django import forms
from django.conf import settings
from django.core import validators
from django.core.exceptions import ImproperlyConfigured
from django.db import models
from django.db.models.functions import Cast

from keneyapp.core.secret_key import decoded_field_key

PREFIX = "enc1:"
KEY_BYTES = 32  # AES-256
NONCE_BYTES = 12  # GCM's standard nonce, random per value
KEY_ID_LENGTH = 8


class FieldDecryptionError(Exception):
    """A stored value that cannot be decrypted: tampered, truncated, or under a key we do not hold."""


@dataclass(frozen=True)
class FieldKey:
    key_id: str
    cipher: AESGCM


def key_id_of(raw_key: bytes) -> str:
    """A short public name for a key: a digest, so the id reveals nothing of the key."""
    return hashlib.sha256(b"keneyapp field key id:" + raw_key).hexdigest()[:KEY_ID_LENGTH]


@dataclass(frozen=True)
class Keyring:
    newest: FieldKey
    by_id: dict[str, FieldKey]


@lru_cache(maxsize=8)
def _keyring_for(configured: tuple[str, ...]) -> Keyring:
    if not configured:
        raise ImproperlyConfigured("FIELD_ENCRYPTION_KEYS is empty: encrypted fields need at least one key")
    keys = []
    for text in configured:
        raw = decoded_field_key(text)
        keys.append(FieldKey(key_id=key_id_of(raw), cipher=AESGCM(raw)))
    return Keyring(newest=keys[0], by_id={key.key_id: key for key in reversed(keys)})


def keyring() -> Keyring:
    """The configured keys: the newest (the one that encrypts), and every one by id. Cached per
    configuration, so a test's override_settings takes effect and a read pays no key setup."""
    return _keyring_for(tuple(settings.FIELD_ENCRYPTION_KEYS))


def field_keys() -> tuple[FieldKey, ...]:
    """The configured keys, newest first."""
    ring = keyring()
    return (ring.newest, *(key for key in ring.by_id.values() if key is not ring.newest))


def newest_prefix() -> str:
    """What every value written under the newest key starts with."""
    return f"{PREFIX}{keyring().newest.key_id}:"


# Set by plaintext_writes(): the reverse data migration writes the text back in clear.
_plaintext_writes = contextvars.ContextVar("plaintext_writes", default=False)


@contextlib.contextmanager
def plaintext_writes() -> Iterator[None]:
    """Within the block, encrypted fields write plaintext (to undo the encryption migration)."""
    token = _plaintext_writes.set(True)
    try:
        yield
    finally:
        _plaintext_writes.reset(token)


def encrypt_text(text: str) -> str:
    key = keyring().newest
    nonce = os.urandom(NONCE_BYTES)
    sealed = key.cipher.encrypt(nonce, text.encode("utf-8"), None)
    # Standard base64 through binascii (C): urlsafe_b64decode's translation doubled a read's cost.
    return f"{PREFIX}{key.key_id}:{binascii.b2a_base64(nonce + sealed, newline=False).decode('ascii')}"


def decrypt_text(stored: str, *, field: models.Field | None = None) -> str:
    """The text of a stored value; one without the prefix is plaintext (see the module docstring)."""
    if not stored.startswith(PREFIX):
        return stored
    key_id, _, payload = stored[len(PREFIX) :].partition(":")
    key = keyring().by_id.get(key_id)
    if key is None:
        raise FieldDecryptionError(
            f"{_label(field)}: stored under key id {key_id!r}, which FIELD_ENCRYPTION_KEYS does not hold "
            "(a key removed before `manage.py rotate_field_encryption_keys` re-encrypted its rows?)"
        )
    try:
        blob = binascii.a2b_base64(payload, strict_mode=True)
        text = key.cipher.decrypt(blob[:NONCE_BYTES], blob[NONCE_BYTES:], None)
    except (InvalidTag, ValueError, binascii.Error) as exc:
        raise FieldDecryptionError(
            f"{_label(field)}: the stored value under key id {key_id!r} fails authentication "
            "(tampered or truncated)"
        ) from exc
    return text.decode("utf-8")


def _label(field: models.Field | None) -> str:
    model = getattr(field, "model", None)
    return "a field" if field is None else f"{model._meta.label}.{field.name}" if model else field.name


class EncryptedTextField(models.TextField):
    """A TextField stored encrypted (module docstring); decrypted when read through the model,
    `values()` and `values_list()` included."""

    description = "Text stored encrypted (AES-256-GCM)"

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # The plaintext's limit, as a CharField would check it in full_clean (TextField does not).
        if self.max_length is not None:
            self.validators.append(validators.MaxLengthValidator(self.max_length))

    def from_db_value(self, value, expression, connection):
        if value is None or value == "":
            return value
        return decrypt_text(value, field=self)

    def get_db_prep_value(self, value, connection, prepared=False):
        # Every write goes through here: save(), update(), bulk_create(), bulk_update()'s CASE.
        value = super().get_db_prep_value(value, connection, prepared)
        if value is None or value == "":
            return value
        in_clear = _plaintext_writes.get() or not settings.FIELD_ENCRYPTION
        # Text that looks like ciphertext is always encrypted: stored in clear, it would be read
        # back as a value to decrypt, and a user could type what makes every read of the row fail.
        if in_clear and not value.startswith(PREFIX):
            return value
        return encrypt_text(value)

    def get_lookup(self, lookup_name):
        # SQL cannot compare ciphertext with text: refuse the lookup instead of matching nothing.
        return super().get_lookup(lookup_name) if lookup_name == "isnull" else None

    def get_transform(self, lookup_name):
        return None


class EncryptedCharField(EncryptedTextField):
    """An EncryptedTextField edited on one line (a CharField's form widget): short free text."""

    def __init__(self, *args, max_length: int, **kwargs):
        super().__init__(*args, max_length=max_length, **kwargs)

    def formfield(self, **kwargs):
        return super().formfield(**{"widget": forms.TextInput, **kwargs})


def stored_value(field_name: str) -> Cast:
    """The column as stored (ciphertext, no decryption), for the SQL that selects rows by their key
    id: `.alias(stored=stored_value("notes")).filter(stored__startswith=...)`."""
    return Cast(field_name, models.TextField())


def encrypted_field_names(model: type[models.Model]) -> list[str]:
    return [field.name for field in model._meta.concrete_fields if isinstance(field, EncryptedTextField)]


def reencrypt_rows(queryset: models.QuerySet, *, batch_size: int = 500, to_plaintext: bool = False) -> int:
    """Rewrite, in batches of `batch_size` rows (bounded memory), the rows of `queryset` that hold
    a non-empty value not under the newest key (old key or plaintext), under the newest key; or,
    with `to_plaintext`, the rows holding ciphertext, in clear. Returns how many rows were rewritten.

    Idempotent: a rewritten row no longer matches, so a second run finds nothing. The rows are
    selected by their stored prefix in SQL, read (decrypted with any configured key) and written
    with one UPDATE per batch (bulk_update); `updated_at` is left alone, as the text is unchanged.
    """
    model = queryset.model
    names = encrypted_field_names(model)
    stale = models.Q()
    for name in names:
        stored = f"stored_{name}"
        queryset = queryset.alias(**{stored: stored_value(name)})
        if to_plaintext:
            stale |= models.Q(**{f"{stored}__startswith": PREFIX})
        else:
            stale |= ~models.Q(**{stored: ""}) & ~models.Q(**{f"{stored}__startswith": newest_prefix()})
    pending = queryset.filter(stale).order_by("pk")
    rewritten, after = 0, None
    with plaintext_writes() if to_plaintext else contextlib.nullcontext():
        while True:
            batch_query = pending if after is None else pending.filter(pk__gt=after)
            rows = list(batch_query.only("pk", *names)[:batch_size])
            if not rows:
                return rewritten
            model._base_manager.bulk_update(rows, names)
            rewritten += len(rows)
            after = rows[-1].pk
