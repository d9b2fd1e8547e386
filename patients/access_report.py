"""A patient's access report: who accessed their record, when, how and with what outcome, for
the patient who asks (HIPAA's accounting of disclosures; GDPR art. 15). JSON and PDF (fpdf2).

Read from the audit trail in one query on its (tenant, patient_id, -at) index, and the staff named
in it in one more; the newest REPORT_MAX_EVENTS events, and says when there were more.
"""

from collections.abc import Mapping
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _
from fpdf import FPDF

from keneyapp.accounts.models import User
from keneyapp.core.audit_selectors import patient_access_events
from keneyapp.core.clinic_time import clinic_zone
from patients.models import Patient

REPORT_MAX_EVENTS = 1000
ACCESS_FIELDS = ("at", "user_id", "role", "action", "door", "outcome", "model")


def access_report(patient: Patient) -> dict[str, Any]:
    rows = patient_access_events(
        tenant_id=patient.tenant_id, patient_id=patient.pk, limit=REPORT_MAX_EVENTS + 1
    )
    truncated = len(rows) > REPORT_MAX_EVENTS
    rows = rows[:REPORT_MAX_EVENTS]
    user_ids = {row["user_id"] for row in rows if row["user_id"] is not None}
    staff = {
        pk: (f"{first} {last}".strip() or username)
        for pk, username, first, last in User.objects.filter(
            tenant_id=patient.tenant_id, pk__in=user_ids
        ).values_list("pk", "username", "first_name", "last_name")
    }
    return {
        "patient": {"id": patient.pk, "mrn": patient.mrn, "name": patient.full_name},
        "generated_at": timezone.now(),
        "truncated": truncated,
        "accesses": [_access(row, staff) for row in rows],
    }


def _access(row: Mapping[str, Any], staff: Mapping[int, str]) -> dict[str, Any]:
    access = {name: row[name] for name in ACCESS_FIELDS}
    access["staff_name"] = staff.get(row["user_id"]) if row["user_id"] is not None else None
    return access


def pdf_text(value) -> str:
    """fpdf2's core fonts are Latin-1: other characters print as '?' rather than failing."""
    return str(value if value not in (None, "") else "-").encode("latin-1", "replace").decode("latin-1")


def render_access_report_pdf(report: Mapping[str, Any], *, tenant) -> bytes:
    """In the active language: the requesting user's (the API view's request)."""
    zone = clinic_zone(tenant)
    patient = report["patient"]
    pdf = FPDF(format="A4")
    pdf.set_title(pdf_text(_("Access report - %(mrn)s") % {"mrn": patient["mrn"]}))
    pdf.set_creator("KeneyApp")
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 16)
    pdf.cell(
        0,
        10,
        pdf_text(_("%(clinic)s: access report") % {"clinic": tenant.name}),
        new_x="LMARGIN",
        new_y="NEXT",
    )
    pdf.set_font("Helvetica", "", 10)
    generated = report["generated_at"].astimezone(zone)
    for text in (
        _("Patient: %(name)s (record %(mrn)s)") % {"name": patient["name"], "mrn": patient["mrn"]},
        _("Generated %(when)s") % {"when": f"{generated:%Y-%m-%d %H:%M %Z}"},
        (
            _("Who accessed this record, newest first (the newest %(count)s accesses).")
            % {"count": REPORT_MAX_EVENTS}
            if report["truncated"]
            else _("Who accessed this record, newest first.")
        ),
    ):
        pdf.multi_cell(0, 6, pdf_text(text), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)
    pdf.set_font("Helvetica", "", 8)
    if not report["accesses"]:
        pdf.multi_cell(0, 5, pdf_text(_("No access recorded.")), new_x="LMARGIN", new_y="NEXT")
    for access in report["accesses"]:
        who = access["staff_name"] or (
            _("user %(id)s") % {"id": access["user_id"]} if access["user_id"] else _("the system")
        )
        line = (
            f"{access['at'].astimezone(zone):%Y-%m-%d %H:%M}  {who} ({access['role'] or '-'})  "
            f"{access['action']} {access['model'].split('.')[-1]}  "
            + _("via %(door)s") % {"door": access["door"]}
            + f"  {access['outcome']}"
        )
        pdf.multi_cell(0, 4.5, pdf_text(line), new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())
