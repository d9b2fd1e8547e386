"""Fast inserts of many new rows for demo and benchmark data."""

from collections.abc import Iterable

from django.db import connection
from django.db.models import Model
from django.utils import timezone

from keneyapp.core.encrypted_fields import EncryptedTextField


def insert_rows(model: type[Model], rows: Iterable[dict]) -> None:
    """Insert new rows given as field values (by attribute name); the caller holds the transaction.

    On PostgreSQL through COPY, about twice as fast as bulk_create's INSERT, so `make bench` can
    seed its data set as part of its run. Columns not given take the model's defaults, and
    auto_now(_add) timestamps not given are set here, as a save would (given ones are kept: a
    seeded register spreads its patients' creation over years). No other statement may run on the
    connection while the rows are streamed: compute what they need first.
    """
    if connection.vendor != "postgresql":
        _bulk_create_keeping_given_timestamps(model, list(rows))
        return
    fields = [field for field in model._meta.concrete_fields if not field.primary_key]
    defaults = {field.attname: field.get_default() for field in fields}
    now = timezone.now()
    for field in fields:
        if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
            defaults[field.attname] = now
    columns = ", ".join(connection.ops.quote_name(field.column) for field in fields)
    statement = f"COPY {connection.ops.quote_name(model._meta.db_table)} ({columns}) FROM STDIN"
    # COPY takes the values as they are: the fields that store a value other than the attribute
    # (EncryptedTextField's ciphertext) convert it first, as save() would.
    encrypted = [field for field in fields if isinstance(field, EncryptedTextField)]
    with connection.cursor() as cursor, cursor.cursor.copy(statement) as copy:
        for values in rows:
            row = {**defaults, **values}
            for field in encrypted:
                row[field.attname] = field.get_db_prep_save(row[field.attname], connection)
            copy.write_row([row[field.attname] for field in fields])


def _bulk_create_keeping_given_timestamps(model: type[Model], rows: list[dict]) -> None:
    """bulk_create, then put back the auto_now(_add) values a row gave (bulk_create's save
    logic overwrites them with now)."""
    objects = [model(**values) for values in rows]
    model.objects.bulk_create(objects)
    stamped = [
        field.attname
        for field in model._meta.concrete_fields
        if (getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False))
        and any(field.attname in values for values in rows)
    ]
    if not stamped:
        return
    for instance, values in zip(objects, rows, strict=True):
        for name in stamped:
            if name in values:
                setattr(instance, name, values[name])
    model.objects.bulk_update(objects, stamped, batch_size=500)
