"""What the admin's calendar and front-desk pages share: their query string, the clinic and the
provider it names, the page's audit.

A page is for a member of a clinic's staff (a platform operator has no clinic's calendar); a
provider id of another clinic, or of nobody, is 404; a date that does not parse is a 400 naming
the expected format, never a 500.
"""

from django import forms
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.utils.translation import gettext_lazy as _

from keneyapp.core import audit
from keneyapp.core.clinic_time import EARLIEST_DAY, LATEST_DAY, clinic_zone

DATE_FORMAT_HELP = _("Enter a date as YYYY-MM-DD, e.g. 2030-01-07.")


class PageQuery(forms.Form):
    """?date=YYYY-MM-DD&provider=<id> (both optional: today, and all providers or the first)."""

    date = forms.DateField(
        required=False,
        input_formats=["%Y-%m-%d"],
        error_messages={"invalid": DATE_FORMAT_HELP},
    )
    provider = forms.IntegerField(required=False, min_value=1, max_value=2**63 - 1)

    def clean_date(self):
        day = self.cleaned_data["date"]
        if day is not None and not EARLIEST_DAY <= day <= LATEST_DAY:
            raise forms.ValidationError(DATE_FORMAT_HELP)
        return day


class ClinicPageMixin:
    """For the appointments ModelAdmin (a TenantScopedAdmin): the checks every page makes first."""

    def clinic_page_checks(self, request, *, action: str = audit.Action.LIST):
        """The caller's clinic and its zone, once the role may view appointments; else 403 (audited)."""
        user = request.user
        if user.tenant_id is None:
            raise Http404(_("This page is a clinic's: sign in as a member of its staff."))
        if not self._role_allows(request, "view"):
            self._denied(request, action)
            raise PermissionDenied
        return user.tenant, clinic_zone(user.tenant)

    def page_provider(self, provider_id: int | None, providers):
        """The provider the query names, among the clinic's (already loaded): 404 if not one."""
        if provider_id is None:
            return None
        for provider in providers:
            if provider.pk == provider_id:
                return provider
        raise Http404(_("No such doctor or nurse in this clinic."))

    def audit_page(self, request, rows: list[dict]) -> None:
        """The page named these patients: recorded as a list, as a changelist's page is."""
        self._audit(
            audit.Action.LIST,
            patient_ids=sorted({row["patient_id"] for row in rows}),
            params=sorted(request.GET),
            tenant_id=request.user.tenant_id,
        )
