import logging
import tempfile

from celery import shared_task

from documents import reports, selectors, services
from patients.models import Patient

logger = logging.getLogger("keneyapp.documents")


@shared_task(name="documents.generate_report")
def generate_report(patient_id: int) -> None:
    """The guide's medium-priority task (default queue, see CELERY_TASK_ROUTES): render the
    patient's pending summary report and mark it ready.

    Safe to run twice: it works on the patient's one pending report (a database constraint keeps
    it unique) and does nothing when there is none (already rendered by an earlier delivery).
    """
    patient = Patient.objects.select_related("tenant").filter(pk=patient_id).first()
    if patient is None:
        return
    document = selectors.pending_report(tenant=patient.tenant_id, patient_id=patient.pk)
    if document is None:
        return
    try:
        with tempfile.NamedTemporaryFile(prefix="keneyapp-report-", suffix=".pdf") as spool:
            reports.render_patient_summary(patient, spool.name)
            services.report_store(document=document, pdf_path=spool.name)
    except Exception:
        # Rejected, not retried forever: the user sees it and may ask again.
        logger.exception("patient summary report %s could not be rendered", document.pk)
        services.report_reject(document=document)


@shared_task(name="documents.cleanup_old_files")
def cleanup_old_files() -> int:
    """The guide's low-priority maintenance (low queue; beat runs it every 15 minutes): remove
    direct uploads never confirmed before they expired, their stored objects first."""
    return services.cleanup_expired_uploads()
