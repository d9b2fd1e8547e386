"""Clinical free text is stored encrypted, read back in clear through the model, and nowhere else.

keneyapp/core/encrypted_fields.py; docs/security.md "Encryption at rest".
"""

import base64
import os
import shutil
import subprocess

import pytest
from django.apps import apps as django_apps
from django.core.exceptions import FieldError
from django.core.management import call_command
from django.db import connection

from keneyapp.core.checks import check_field_encryption_keys
from keneyapp.core.encrypted_fields import (
    PREFIX,
    FieldDecryptionError,
    decrypt_text,
    encrypt_text,
    encrypted_field_names,
    key_id_of,
    reencrypt_rows,
)
from keneyapp.core.migration_operations import encrypt_existing_rows
from keneyapp.core.models import AuditEvent
from keneyapp.core.scoping import scopes_disabled
from keneyapp.core.secret_key import DEVELOPMENT_FIELD_KEY, field_keys_problem
from tests.factories import AppointmentFactory, MessageFactory, PatientFactory

MARKER = "Zqenc-marker-7731"

# Every encrypted field, by model: what the issue names (and nothing else is clinical free text).
ENCRYPTED = {
    "patients.Patient": {"allergies", "notes", "emergency_contact"},
    "appointments.Appointment": {"reason", "notes", "cancellation_reason"},
    "messaging.Message": {"subject", "body"},
}


def new_key() -> str:
    return base64.urlsafe_b64encode(os.urandom(32)).decode()


def marked(field: str) -> str:
    return f"{MARKER} {field} Pénicilline ✓"


def rows_with_every_field_marked(clinic):
    """One patient, appointment and message whose every encrypted field holds the marker."""
    patient = PatientFactory(tenant=clinic, **{f: marked(f) for f in ENCRYPTED["patients.Patient"]})
    appointment = AppointmentFactory(
        tenant=clinic, patient=patient, **{f: marked(f) for f in ENCRYPTED["appointments.Appointment"]}
    )
    message = MessageFactory(
        tenant=clinic, patient=patient, **{f: marked(f) for f in ENCRYPTED["messaging.Message"]}
    )
    return patient, appointment, message


def stored(instance, field: str) -> str:
    """The column as the database holds it, read with raw SQL (no field conversion)."""
    table = instance._meta.db_table
    column = instance._meta.get_field(field).column
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {column} FROM {table} WHERE id = %s", [instance.pk])  # noqa: S608 (names from the model)
        return cursor.fetchone()[0]


def test_the_encrypted_fields_are_the_clinical_free_text():
    found = {
        model._meta.label: set(encrypted_field_names(model))
        for model in django_apps.get_models()
        if encrypted_field_names(model)
    }
    assert found == ENCRYPTED


def test_each_field_round_trips_through_the_model_and_is_ciphertext_in_the_table(clinic):
    rows = rows_with_every_field_marked(clinic)

    with scopes_disabled():
        for instance in rows:
            fresh = type(instance).objects.get(pk=instance.pk)
            values = (
                type(instance).objects.filter(pk=instance.pk).values(*ENCRYPTED[instance._meta.label]).get()
            )
            for field in ENCRYPTED[instance._meta.label]:
                assert getattr(fresh, field) == marked(field)
                assert values[field] == marked(field)
                raw = stored(instance, field)
                assert raw.startswith(PREFIX)
                assert MARKER not in raw
                assert "Pénicilline" not in raw


def test_no_table_holds_the_marker_in_clear(clinic):
    rows_with_every_field_marked(clinic)
    tables = connection.introspection.table_names()
    found = []
    with connection.cursor() as cursor:
        for table in tables:
            columns = [c.name for c in connection.introspection.get_table_description(cursor, table)]
            for column in columns:
                quoted_table, quoted = connection.ops.quote_name(table), connection.ops.quote_name(column)
                cursor.execute(
                    f"SELECT count(*) FROM {quoted_table} WHERE CAST({quoted} AS TEXT) LIKE %s",  # noqa: S608
                    [f"%{MARKER}%"],
                )
                if cursor.fetchone()[0]:
                    found.append(f"{table}.{column}")
    assert found == []


@pytest.mark.skipif(shutil.which("pg_dump") is None, reason="needs pg_dump")
@pytest.mark.django_db(transaction=True)
def test_a_pg_dump_of_the_database_shows_none_of_the_text(clinic):
    if connection.vendor != "postgresql":
        pytest.skip("pg_dump dumps PostgreSQL")
    patient, _, _ = rows_with_every_field_marked(clinic)
    settings_dict = connection.settings_dict
    env = {**os.environ, "PGPASSWORD": settings_dict.get("PASSWORD") or ""}
    dump = subprocess.run(
        [
            "pg_dump",
            "--data-only",
            "-h", settings_dict.get("HOST") or "127.0.0.1",
            "-p", str(settings_dict.get("PORT") or 5432),
            "-U", settings_dict.get("USER") or "postgres",
            settings_dict["NAME"],
        ],
        env=env, capture_output=True, text=True, timeout=120, check=True,
    ).stdout  # fmt: skip

    # The dump holds the rows (the names are not encrypted: search needs them)...
    assert patient.last_name in dump and patient.mrn in dump
    # ...and none of the clinical text.
    assert MARKER not in dump
    assert "Pénicilline" not in dump


def test_the_empty_string_stays_empty(clinic):
    patient = PatientFactory(tenant=clinic, notes="", allergies="")
    assert stored(patient, "notes") == ""
    with scopes_disabled():
        assert type(patient).objects.get(pk=patient.pk).notes == ""


def test_tampered_ciphertext_fails_loudly(clinic):
    patient = PatientFactory(tenant=clinic, allergies="Latex")
    raw = stored(patient, "allergies")
    flipped = raw[:-6] + ("A" if raw[-6] != "A" else "B") + raw[-5:]
    with connection.cursor() as cursor:
        cursor.execute("UPDATE patients_patient SET allergies = %s WHERE id = %s", [flipped, patient.pk])

    with (
        scopes_disabled(),
        pytest.raises(FieldDecryptionError, match=r"patients\.Patient\.allergies.*authentication"),
    ):
        type(patient).objects.get(pk=patient.pk)


def test_a_truncated_value_fails_loudly():
    with pytest.raises(FieldDecryptionError):
        decrypt_text(encrypt_text("Latex")[:-10])


def test_a_value_under_a_key_no_longer_configured_fails_naming_the_key(clinic, settings):
    old = new_key()
    settings.FIELD_ENCRYPTION_KEYS = [old]
    patient = PatientFactory(tenant=clinic, notes="Under the old key")
    settings.FIELD_ENCRYPTION_KEYS = [new_key()]

    old_id = key_id_of(base64.urlsafe_b64decode(old))
    with scopes_disabled(), pytest.raises(FieldDecryptionError, match=old_id):
        type(patient).objects.get(pk=patient.pk)


def test_text_that_looks_like_ciphertext_round_trips_even_with_encryption_off(clinic, settings):
    settings.FIELD_ENCRYPTION = False
    typed = f"{PREFIX}deadbeef:not-really"
    patient = PatientFactory(tenant=clinic, notes=typed, allergies="Plain")

    assert stored(patient, "allergies") == "Plain"
    assert stored(patient, "notes") != typed
    with scopes_disabled():
        assert type(patient).objects.get(pk=patient.pk).notes == typed


def test_with_encryption_off_writes_are_plain_and_encrypted_rows_still_read(clinic, settings):
    encrypted = PatientFactory(tenant=clinic, notes="Written encrypted")
    settings.FIELD_ENCRYPTION = False
    plain = PatientFactory(tenant=clinic, notes="Written plain")

    assert stored(plain, "notes") == "Written plain"
    assert stored(encrypted, "notes").startswith(PREFIX)
    with scopes_disabled():
        assert type(plain).objects.get(pk=encrypted.pk).notes == "Written encrypted"
        assert type(plain).objects.get(pk=plain.pk).notes == "Written plain"


@pytest.mark.parametrize("lookup", ["notes", "notes__contains", "notes__icontains", "notes__startswith"])
def test_sql_comparisons_on_ciphertext_are_refused_not_silently_empty(lookup):
    from patients.models import Patient

    with pytest.raises(FieldError):
        Patient.objects.filter(**{lookup: "Latex"})


def test_rotation_re_encrypts_old_rows_once_then_the_old_key_can_go(clinic, other_clinic, settings):
    old, new = new_key(), new_key()
    settings.FIELD_ENCRYPTION_KEYS = [old]
    patient, appointment, message = rows_with_every_field_marked(clinic)
    elsewhere = PatientFactory(tenant=other_clinic, notes="Other clinic's note")
    settings.FIELD_ENCRYPTION = False
    in_clear = PatientFactory(tenant=clinic, notes="Written in clear")
    settings.FIELD_ENCRYPTION = True
    settings.FIELD_ENCRYPTION_KEYS = [new, old]
    new_prefix = f"{PREFIX}{key_id_of(base64.urlsafe_b64decode(new))}:"

    # Both keys configured: the old rows read before rotation.
    with scopes_disabled():
        assert type(patient).objects.get(pk=patient.pk).notes == marked("notes")
    with scopes_disabled():
        patients_before = type(patient).objects.count()
        events_before = AuditEvent.objects.count()

    from io import StringIO

    out = StringIO()
    call_command("rotate_field_encryption_keys", "--batch-size", "1", stdout=out)

    report = out.getvalue()
    # Every patient but the one with nothing to encrypt (the factories leave the fields empty).
    assert "patients.Patient: 3 rows re-encrypted" in report
    assert "appointments.Appointment: 1 rows re-encrypted" in report
    assert "messaging.Message: 1 rows re-encrypted" in report
    for instance in (patient, appointment, message):
        for field in ENCRYPTED[instance._meta.label]:
            assert stored(instance, field).startswith(new_prefix)
    assert stored(elsewhere, "notes").startswith(new_prefix)
    assert stored(in_clear, "notes").startswith(new_prefix)
    with scopes_disabled():
        # One change event per model and clinic rewritten (three here), naming fields, never values.
        events = list(AuditEvent.objects.order_by("pk")[events_before:])
        assert patients_before == type(patient).objects.count()
    assert {(e.door, e.action, e.model) for e in events} == {
        ("command", "change", "patients.patient"),
        ("command", "change", "appointments.appointment"),
        ("command", "change", "messaging.message"),
    }
    assert {e.tenant_id for e in events} == {clinic.pk, other_clinic.pk}

    # Idempotent: nothing left under the old key.
    again = StringIO()
    call_command("rotate_field_encryption_keys", stdout=again)
    assert "patients.Patient: 0 rows re-encrypted" in again.getvalue()

    # The old key removed: everything still reads.
    settings.FIELD_ENCRYPTION_KEYS = [new]
    with scopes_disabled():
        assert type(patient).objects.get(pk=patient.pk).notes == marked("notes")
        assert type(message).objects.get(pk=message.pk).body == marked("body")
        assert type(in_clear).objects.get(pk=in_clear.pk).notes == "Written in clear"


def test_the_data_migration_encrypts_existing_rows_and_reverses_to_clear(clinic, settings):
    settings.FIELD_ENCRYPTION = False
    patients = [PatientFactory(tenant=clinic, notes=f"Note {n}", allergies="") for n in range(5)]
    settings.FIELD_ENCRYPTION = True
    operation = encrypt_existing_rows("patients", "patient", batch_size=2)

    class Editor:
        connection = connection

    operation.code(django_apps, Editor())
    assert all(stored(p, "notes").startswith(PREFIX) for p in patients)
    assert [stored(p, "allergies") for p in patients] == [""] * 5
    with scopes_disabled():
        assert [type(p).objects.get(pk=p.pk).notes for p in patients] == [f"Note {n}" for n in range(5)]

    operation.reverse_code(django_apps, Editor())
    assert [stored(p, "notes") for p in patients] == [f"Note {n}" for n in range(5)]


def test_rewriting_goes_in_batches_and_counts_rows(clinic):
    from patients.models import Patient

    with scopes_disabled():
        PatientFactory.create_batch(5, tenant=clinic, notes="n")
        with connection.cursor() as cursor:
            cursor.execute("UPDATE patients_patient SET notes = 'n'")
        assert reencrypt_rows(Patient.objects.filter(tenant=clinic), batch_size=2) == 5
        assert reencrypt_rows(Patient.objects.filter(tenant=clinic), batch_size=2) == 0


# --- settings ---------------------------------------------------------------------------------------
SECRET = "x" * 10 + "a-long-random-secret-key-for-the-checks-0123456789"


@pytest.mark.parametrize(
    ("keys", "complaint"),
    [
        pytest.param([], "not set", id="missing"),
        pytest.param([DEVELOPMENT_FIELD_KEY], "development key", id="development-key"),
        pytest.param([SECRET], "is SECRET_KEY", id="secret-key-itself"),
        pytest.param(
            [base64.urlsafe_b64encode(__import__("hashlib").sha256(SECRET.encode()).digest()).decode()],
            "derived from SECRET_KEY",
            id="sha256-of-secret-key",
        ),
        pytest.param(
            [base64.urlsafe_b64encode(SECRET.encode()[:32]).decode()], "derived", id="secret-prefix"
        ),
        pytest.param(["not base64!"], "base64", id="malformed"),
        pytest.param([base64.urlsafe_b64encode(b"short").decode()], "bytes", id="wrong-length"),
        pytest.param([new_key(), DEVELOPMENT_FIELD_KEY], "key 2", id="an-older-key-is-the-development-key"),
    ],
)
def test_production_refuses_unfit_field_keys(keys, complaint):
    problem = field_keys_problem(keys, SECRET)
    assert problem is not None and complaint in problem


def test_production_accepts_a_key_of_its_own():
    assert field_keys_problem([new_key(), new_key()], SECRET) is None


def test_the_deploy_check_is_an_error_for_the_development_key_and_for_encryption_off(settings):
    settings.FIELD_ENCRYPTION_KEYS = [DEVELOPMENT_FIELD_KEY]
    assert [m.id for m in check_field_encryption_keys()] == ["keneyapp.E001"]
    settings.FIELD_ENCRYPTION_KEYS = [new_key()]
    assert check_field_encryption_keys() == []
    settings.FIELD_ENCRYPTION = False
    assert [m.id for m in check_field_encryption_keys()] == ["keneyapp.E001"]
