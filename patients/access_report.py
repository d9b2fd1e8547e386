"""A patient's access report: who accessed their record, when, how and with what outcome, for
the patient who asks (HIPAA's accounting of disclosures; GDPR art. 15). JSON and PDF (fpdf2).

Read from the audit trail in one query on its (tenant, patient_id, -at) index, and the staff named
in it in one more; the newest REPORT_MAX_EVENTS events, and says when there were more.
"""

from collections.abc import Mapping
from typing import Any

from django.utils import timezone
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
    zone = clinic_zone(tenant)
    patient = report["patient"]
    pdf = FPDF(format="A4")
    pdf.set_title(pdf_text(f"Access report - {patient['mrn']}"))
    pdf.set_creator("KeneyApp")
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 16)
    pdf.cell(0, 10, pdf_text(f"{tenant.name}: access report"), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "", 10)
    generated = report["generated_at"].astimezone(zone)
    for text in (
        f"Patient: {patient['name']} (record {patient['mrn']})",
        f"Generated {generated:%Y-%m-%d %H:%M %Z}",
        "Who accessed this record, newest first"
        + (f" (the newest {REPORT_MAX_EVENTS} accesses)." if report["truncated"] else "."),
    ):
        pdf.multi_cell(0, 6, pdf_text(text), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)
    pdf.set_font("Helvetica", "", 8)
    if not report["accesses"]:
        pdf.multi_cell(0, 5, "No access recorded.", new_x="LMARGIN", new_y="NEXT")
    for access in report["accesses"]:
        who = access["staff_name"] or (f"user {access['user_id']}" if access["user_id"] else "the system")
        line = (
            f"{access['at'].astimezone(zone):%Y-%m-%d %H:%M}  {who} ({access['role'] or '-'})  "
            f"{access['action']} {access['model'].split('.')[-1]}  via {access['door']}  {access['outcome']}"
        )
        pdf.multi_cell(0, 4.5, pdf_text(line), new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())
