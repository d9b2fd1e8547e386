"""Clinic-owned models refuse every query outside a clinic scope (keneyapp/core/scoping.py)."""

import re

import pytest
from asgiref.sync import async_to_sync
from django.apps import apps
from django.db import transaction
from django.db.models import Count, F
from django_scopes import get_scope

from appointments.models import Appointment, TimeOff, WorkingHours
from documents.models import Document
from keneyapp.core.scoping import ClinicScopedManager, UnscopedQuery, in_current_scope, scope, scopes_disabled
from patients.models import Patient
from tests.documents.helpers import make_document
from tests.factories import PatientFactory

# Models with a `tenant` foreign key that are not clinic data, and why.
EXEMPT = {
    # Authentication loads the user before any scope exists: the user is what decides the scope.
    "accounts.User": "the caller's own account, read to find their clinic",
}


def _has_tenant_foreign_key(model) -> bool:
    return any(
        field.is_relation
        and field.related_model is not None
        and field.related_model._meta.label == "accounts.Tenant"
        for field in model._meta.get_fields()
        if field.concrete
    )


def clinic_owned_models():
    return [
        model
        for model in apps.get_models()
        if _has_tenant_foreign_key(model) and model._meta.label not in EXEMPT
    ]


def test_every_model_with_a_clinic_uses_the_scoped_manager_unless_exempt():
    models = clinic_owned_models()
    assert {model._meta.label for model in models} >= {
        "patients.Patient",
        "appointments.Appointment",
        "appointments.WorkingHours",
        "appointments.TimeOff",
        "messaging.Message",
        "documents.Document",
        "documents.DocumentVersion",
        "documents.DocumentAccess",
    }
    unscoped = [
        model._meta.label for model in models if not isinstance(model._default_manager, ClinicScopedManager)
    ]
    assert unscoped == []
    # Every default manager a related manager or a ModelAdmin builds on is the scoped one.
    assert all(model._default_manager is model.objects for model in models)


def test_the_exempt_list_names_only_models_that_exist():
    assert all(apps.get_model(label) for label in EXEMPT)


def _one_field(model) -> str:
    return next(
        field.name for field in model._meta.concrete_fields if not field.primary_key and not field.is_relation
    )


EXECUTION_PATHS = {
    "iteration": lambda m: list(m.objects.all()),
    "bool": lambda m: bool(m.objects.filter(pk=1)),
    "get": lambda m: m.objects.get(pk=1),
    "first": lambda m: m.objects.first(),
    "last": lambda m: m.objects.last(),
    "count": lambda m: m.objects.count(),
    "exists": lambda m: m.objects.exists(),
    "in_bulk": lambda m: m.objects.in_bulk([1, 2]),
    "contains": lambda m: m.objects.contains(m(pk=1)),
    "values": lambda m: list(m.objects.values("pk")),
    "values_list": lambda m: list(m.objects.values_list("pk", flat=True)),
    "aggregate": lambda m: m.objects.aggregate(n=Count("pk")),
    "annotate": lambda m: list(m.objects.annotate(n=Count("pk"))),
    "update": lambda m: m.objects.update(**{_one_field(m): F(_one_field(m))}),
    "delete": lambda m: m.objects.filter(pk=0).delete(),
    "bulk_update": lambda m: m.objects.bulk_update([m(pk=1)], [_one_field(m)]),
    "bulk_create": lambda m: m.objects.bulk_create([]),
    "raw": lambda m: list(m.objects.raw(f"SELECT * FROM {m._meta.db_table}")),  # noqa: S608
    "explain": lambda m: m.objects.explain(),
    "iterator": lambda m: list(m.objects.iterator()),
    "get_or_create": lambda m: m.objects.get_or_create(pk=1),
    "select_related and exclude": lambda m: list(m.objects.select_related().exclude(pk=1)),
    "order_by and slice": lambda m: list(m.objects.order_by("-pk")[:1]),
    "union": lambda m: list(m.objects.order_by().union(m.objects.order_by())),
    "as a subquery": lambda m: _as_subquery(m),
    "async count": lambda m: async_to_sync(_acount)(m),
    "async get": lambda m: async_to_sync(_aget)(m),
    "async iteration": lambda m: async_to_sync(_alist)(m.objects.all()),
}


def _as_subquery(model):
    # The outer query runs with scopes disabled; the clinic-owned inner one still refuses.
    with scopes_disabled():
        outer = Patient.objects.all()
    return list(outer.filter(pk__in=model.objects.values("pk")))


async def _acount(model):
    return await model.objects.acount()


async def _aget(model):
    return await model.objects.aget(pk=1)


async def _alist(queryset):
    return [row async for row in queryset]


@pytest.mark.django_db
@pytest.mark.parametrize("path", EXECUTION_PATHS)
@pytest.mark.parametrize("model", clinic_owned_models(), ids=lambda m: m._meta.label)
def test_an_unscoped_query_raises(model, path):
    with pytest.raises(UnscopedQuery, match=re.escape(model._meta.label)):
        EXECUTION_PATHS[path](model)


@pytest.mark.django_db
@pytest.mark.parametrize(
    "state",
    [{"tenant": None}, {"tenant": [1, 2]}, {"clinic": 1}],
    ids=["clinic None", "several clinics", "no tenant key"],
)
def test_a_scope_that_names_no_single_clinic_raises(state):
    with scope(**state), pytest.raises(UnscopedQuery, match=r"patients\.Patient"):
        Patient.objects.count()


@pytest.fixture
def document(clinic):
    return make_document(clinic)


@pytest.mark.django_db
def test_related_managers_refuse_outside_a_scope(document, doctor):
    for related in (document.versions, doctor.working_hours, doctor.time_off):
        with pytest.raises(UnscopedQuery):
            list(related.all())
    with scope(tenant=document.tenant_id):
        assert [version.version for version in document.versions.all()] == [1]


@pytest.mark.django_db
def test_a_clinic_scope_shows_that_clinic_only_and_disabled_shows_all(clinic, other_clinic):
    ours, theirs = PatientFactory(tenant=clinic), PatientFactory(tenant=other_clinic)
    with scope(tenant=clinic.pk):
        assert list(Patient.objects.all()) == [ours]
        assert not Patient.objects.filter(pk=theirs.pk).exists()
        assert Patient.objects.filter(pk=theirs.pk).update(notes="x") == 0
    with scope(tenant=clinic):  # a clinic object works as well as its id
        assert list(Patient.objects.values_list("pk", flat=True)) == [ours.pk]
    with scopes_disabled():
        assert set(Patient.objects.all()) == {ours, theirs}


@pytest.mark.django_db
def test_a_scope_is_read_when_the_queryset_is_built(clinic, other_clinic):
    theirs = PatientFactory(tenant=other_clinic)
    with scope(tenant=clinic.pk):
        ours_only = Patient.objects.all()
    with scopes_disabled():
        assert theirs not in ours_only


@pytest.mark.django_db
def test_what_needs_no_scope_empty_querysets_inserts_and_the_base_manager(clinic):
    assert list(Patient.objects.none()) == []
    assert list(Patient.objects.filter(pk=1).none()) == []
    patient = Patient.objects.create(
        tenant=clinic, mrn="X1", first_name="A", last_name="B", date_of_birth="1990-01-01"
    )
    patient.notes = "saved through the base manager"
    patient.save()
    patient.refresh_from_db()
    assert Patient._base_manager.filter(pk=patient.pk).exists()


def test_scoped_querysets_can_be_built_and_printed_as_a_query_description_anywhere():
    # Forms and serializers build querysets at import time; only running one needs a scope.
    for model in (Appointment, WorkingHours, TimeOff, Document):
        queryset = model.objects.filter(pk__gt=0).exclude(pk=1).select_related().order_by("pk")
        assert queryset.model is model
        with pytest.raises(UnscopedQuery):
            str(queryset.query)  # compiling it is running it, as far as the scope is concerned


def test_no_scope_outside_a_door():
    assert get_scope() == {}


def test_an_on_commit_callback_runs_in_the_scope_that_registered_it(
    clinic, django_capture_on_commit_callbacks
):
    seen = []
    # The callbacks run when the capture ends, after the scope is left.
    with django_capture_on_commit_callbacks(execute=True), scope(tenant=clinic.pk):
        transaction.on_commit(in_current_scope(lambda: seen.append(Patient.objects.count())))
        transaction.on_commit(lambda: seen.append(get_scope()))
    assert seen == [0, {}]
