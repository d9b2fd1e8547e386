"""`seed_demo --messaging-staff N`: the websocket benchmark's users, idempotently."""

import pytest
from django.core.management import call_command

from keneyapp.accounts.models import User

pytestmark = pytest.mark.django_db


def test_seed_demo_adds_messaging_staff_once(settings):
    settings.DEBUG = True
    options = {"patients": 0, "other_patients": 0, "appointments": 0, "other_appointments": 0}
    call_command("seed_demo", messaging_staff=12, stdout=None, **options)
    call_command("seed_demo", messaging_staff=12, **options)

    staff = User.objects.filter(username__startswith="demo.staff")
    assert staff.count() == 12
    assert {user.tenant.slug for user in staff} == {"keney-demo"}
    assert {user.role for user in staff} == {"doctor", "nurse", "receptionist"}
    assert User.objects.get(username="demo.staff07").check_password("testpass")
