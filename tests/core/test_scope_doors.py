"""Each door enters its caller's clinic scope, and no other (docs/architecture.md "The clinic scope")."""

import contextvars
import inspect
import json
import logging
import os
from unittest import mock

from asgiref.sync import async_to_sync
from django.apps import apps
from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.core.management import call_command, find_commands, load_command_class
from django.http import HttpResponse
from django.test import RequestFactory
from django_scopes import get_scope

from keneyapp.core.caching import cache_service
from keneyapp.core.middleware import ClinicScopeMiddleware
from keneyapp.core.scoping import scopes_disabled
from messaging.consumers import NotificationConsumer
from patients import selectors as patient_selectors
from patients.models import Patient
from tests.factories import PatientFactory
from tests.messaging.websocket_helpers import open_socket


# --- API ------------------------------------------------------------------------------------------
def test_an_api_request_runs_in_the_callers_clinic_scope(api, doctor, monkeypatch):
    patient = PatientFactory(tenant=doctor.tenant)
    seen = []
    patient_get = patient_selectors.patient_get

    def recording(**kwargs):
        seen.append(dict(get_scope()))
        return patient_get(**kwargs)

    monkeypatch.setattr(patient_selectors, "patient_get", recording)
    with scopes_disabled():  # what the caller holds does not flow into the request
        response = api(doctor).patch(f"/api/v1/patients/{patient.pk}", {"notes": "x"}, format="json")
    assert response.status_code == 200
    assert seen == [{"_enabled": True, "tenant": doctor.tenant_id}]


def test_an_unscoped_query_in_a_request_is_the_ordinary_500_and_is_logged(
    api, doctor, outsider, monkeypatch, caplog
):
    theirs = PatientFactory(tenant=outsider.tenant, last_name="Theirs")

    def buggy_patient_get(*, tenant, patient_id):
        # A bug: the queryset is built where no scope is (another thread, a new context).
        return contextvars.Context().run(lambda: Patient.objects.filter(pk=patient_id)).get()

    monkeypatch.setattr(patient_selectors, "patient_get", buggy_patient_get)
    client = api(doctor)
    client.raise_request_exception = False
    with caplog.at_level(logging.ERROR, logger="keneyapp.scoping"):
        response = client.patch(f"/api/v1/patients/{theirs.pk}", {"notes": "x"}, format="json")

    assert response.status_code == 500
    assert response.json() == {"status": 500, "code": "server_error", "detail": "Internal server error."}
    assert b"Theirs" not in response.content
    assert f"unscoped query on patients.Patient through PATCH /api/v1/patients/{theirs.pk}" in caplog.text
    # The base view never reached finalize_response; the middleware still left the request's scope.
    assert get_scope() == {}


# --- admin ----------------------------------------------------------------------------------------
def _scope_seen_by_a_request(path, user):
    seen = []

    def view(request):
        seen.append(dict(get_scope()))
        return HttpResponse()

    request = RequestFactory().get(path)
    request.user = user
    ClinicScopeMiddleware(view)(request)
    return seen[0]


def test_the_admin_door_enters_staffs_clinic_scope(doctor):
    assert _scope_seen_by_a_request("/admin/patients/patient/", doctor) == {
        "_enabled": True,
        "tenant": doctor.tenant_id,
    }


def test_the_admin_door_disables_scopes_for_superusers(superuser):
    assert _scope_seen_by_a_request("/admin/patients/patient/", superuser)["_enabled"] is False


def test_the_admin_door_enters_no_scope_for_anonymous_callers_and_clears_an_inherited_one(doctor):
    with scopes_disabled():
        assert _scope_seen_by_a_request("/admin/login/", AnonymousUser()) == {}
        # Other paths: their own door (the base API view) decides, not the middleware.
        assert _scope_seen_by_a_request("/api/v1/patients", doctor) == {}
    assert get_scope() == {}


def test_staff_in_the_admin_see_their_clinic_only(browser, clinic_admin, outsider):
    ours = PatientFactory(tenant=clinic_admin.tenant, last_name="Ours")
    PatientFactory(tenant=outsider.tenant, last_name="Theirs")
    response = browser(clinic_admin).get("/admin/patients/patient/")
    assert response.status_code == 200
    assert ours.last_name.encode() in response.content and b"Theirs" not in response.content


# --- websocket ------------------------------------------------------------------------------------
def test_a_sockets_database_work_runs_in_the_scope_of_its_tokens_clinic(doctor, outsider, monkeypatch):
    ours = PatientFactory(tenant=doctor.tenant)
    PatientFactory(tenant=outsider.tenant)

    def patient_ids():
        return list(Patient.objects.values_list("pk", flat=True))

    async def answer_with_patient_ids(self, text_data=None, bytes_data=None):
        # Stands in for a frame handler that reads the database, through the consumer's one door.
        await self.send(text_data=json.dumps(await self.in_clinic_scope(patient_ids)))

    monkeypatch.setattr(NotificationConsumer, "receive", answer_with_patient_ids)

    async def scenario():
        socket = await open_socket(doctor)
        await socket.send_to(text_data="{}")
        answer = json.loads(await socket.receive_from(timeout=3))
        await socket.disconnect()
        return answer

    # As the consumer tests do: the consumer's connection closing would close the test's own.
    with mock.patch("channels.db.close_old_connections", lambda: None):
        assert async_to_sync(scenario)() == [ours.pk]
    assert get_scope() == {}


# --- management commands --------------------------------------------------------------------------
def _project_commands():
    for app in apps.get_app_configs():
        # The project's own apps: under the checkout, not an installed package (.venv may be inside).
        if not app.path.startswith(str(settings.BASE_DIR)) or "site-packages" in app.path:
            continue
        for name in find_commands(os.path.join(app.path, "management")):
            yield name, load_command_class(app.name, name)


def test_every_project_command_names_its_clinic_or_disables_scopes():
    commands = dict(_project_commands())
    assert {"seed_demo", "create_tenant", "warm_cache", "cache_stats", "documents_create_bucket"} <= set(
        commands
    )
    silent = [
        name
        for name, command in commands.items()
        if not any(
            door in inspect.getsource(type(command).handle) for door in ("scopes_disabled()", "scope(tenant=")
        )
    ]
    assert silent == []


def test_a_command_runs_in_the_scope_it_declares(monkeypatch):
    seen = []
    monkeypatch.setattr(cache_service, "flush_stats", lambda: seen.append(dict(get_scope())))
    call_command("cache_stats")
    assert seen == [{"_enabled": False}]
