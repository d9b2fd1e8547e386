"""`User.role_allows`: the roles table asked through the user (the admin's base class in `core` asks
it, so `core` imports no account module)."""

import pytest

from keneyapp.accounts.models import Tenant, User
from keneyapp.accounts.roles import Role


def staff(role: str, *, tenant_id: int | None = 1) -> User:
    return User(username="someone", role=role, tenant=Tenant(pk=tenant_id) if tenant_id else None)


def test_a_role_may_do_what_its_row_in_the_table_says():
    assert staff(Role.DOCTOR).role_allows("patients.delete")
    assert not staff(Role.RECEPTIONIST).role_allows("patients.delete")


def test_without_a_clinic_or_a_role_nothing_is_allowed():
    assert not staff("").role_allows("patients.view")
    assert not staff(Role.ADMIN, tenant_id=None).role_allows("patients.view")


def test_an_action_missing_from_the_table_raises_instead_of_answering_no():
    with pytest.raises(LookupError, match=r"patients\.fly"):
        staff(Role.ADMIN).role_allows("patients.fly")
