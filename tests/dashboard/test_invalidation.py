"""The dashboard hears about writes through core's `clinic_data_changed`, never by a domain naming it."""

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.db import transaction

from dashboard.selectors import DASHBOARD_NAMESPACE
from keneyapp.core.caching import cache_service, clinic_namespace
from keneyapp.core.signals import clinic_data_changed
from patients.models import Patient

pytestmark = pytest.mark.django_db

DOMAINS = ("patients", "appointments", "messaging", "documents")


def dashboard_version(tenant_id: int) -> int:
    namespace = clinic_namespace(tenant_id, DASHBOARD_NAMESPACE)
    return cache_service.versions([namespace])[namespace]


def test_the_signal_bumps_that_clinics_dashboard_now_and_again_after_commit(
    clinic, other_clinic, django_capture_on_commit_callbacks
):
    before, other_before = dashboard_version(clinic.pk), dashboard_version(other_clinic.pk)
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        clinic_data_changed.send(sender=Patient, tenant_id=clinic.pk)
        assert dashboard_version(clinic.pk) == before + 1  # later reads in the transaction miss
    assert dashboard_version(clinic.pk) == before + 2  # and so do reads cached before the commit
    assert dashboard_version(other_clinic.pk) == other_before


def test_no_domain_names_the_dashboards_cache_namespace():
    naming = re.compile(r"clinic_namespace\([^)]*[\"']dashboard[\"']")
    offenders = [
        str(path.relative_to(settings.BASE_DIR))
        for domain in DOMAINS
        for path in (Path(settings.BASE_DIR) / domain).rglob("*.py")
        if naming.search(path.read_text())
    ]
    assert offenders == []
