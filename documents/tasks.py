"""Background work of documents. Tasks call the services (never the other way: a service queues a
task by its name, keneyapp.core.tasks.queue_task)."""

import logging
import tempfile

from celery import shared_task
from django.utils import translation
from django_scopes import scopes_disabled

from documents import reports, selectors, services
from documents.storage import StorageUnavailable
from keneyapp.core import audit
from keneyapp.core.language import language_for
from keneyapp.core.tasks import ClinicTask
from patients.models import Patient

logger = logging.getLogger("keneyapp.documents")


@shared_task(base=ClinicTask, name="documents.generate_report")
def generate_report(*, clinic_id: int, patient_id: int) -> None:
    """The guide's medium-priority task (default queue, see CELERY_TASK_ROUTES): render the
    patient's pending summary report and mark it ready.

    Safe to run twice: it works on the patient's one pending report (a database constraint keeps
    it unique), does nothing when there is none (already rendered by an earlier delivery), and
    of two deliveries rendering at once only one stores its PDF (services.report_store).
    """
    patient = Patient.objects.select_related("tenant").filter(pk=patient_id, tenant_id=clinic_id).first()
    if patient is None:
        return
    document = selectors.pending_report(tenant=clinic_id, patient_id=patient.pk)
    if document is None:
        return
    try:
        with tempfile.NamedTemporaryFile(prefix="keneyapp-report-", suffix=".pdf") as spool:
            # In the language of the staff member who asked for it (the report's uploader): a task
            # has no browser, so their setting, else their clinic's (keneyapp.core.language).
            with translation.override(language_for(document.uploaded_by)):
                reports.render_patient_summary(patient, spool.name)
            # The rendering read the patient's record: recorded (stored when the task ends).
            audit.record(audit.Action.REPORT, Patient, object_id=patient.pk, patient_id=patient.pk)
            services.report_store(document=document, pdf_path=spool.name)
    except StorageUnavailable:
        # Rendered, but S3 could not take it: an outage, not a bad report. It stays pending, and
        # the stale-report sweep (or asking again) queues it once more after
        # REPORT_STALE_AFTER_SECONDS; rejecting it would make the user ask for it again.
        logger.warning("patient summary report %s: storage unavailable, left pending", document.pk)
    except Exception:
        # Rejected, not retried forever: the user sees it and may ask again.
        logger.exception("patient summary report %s could not be rendered", document.pk)
        services.report_reject(document=document)


@shared_task(name="documents.sweep_stale_reports")
def sweep_stale_reports() -> int:
    """Run by beat every 5 minutes (low queue): queue again the reports still pending
    REPORT_STALE_AFTER_SECONDS after they were queued, whose queueing a broker outage may have
    lost. Returns how many were queued."""
    with scopes_disabled():  # a sweep over every clinic's reports; each is queued with its clinic
        return services.reports_requeue_stale()


@shared_task(name="documents.cleanup_old_files")
def cleanup_old_files() -> int:
    """The guide's low-priority maintenance (low queue; beat runs it every 15 minutes): remove
    direct uploads never confirmed before they expired, their stored objects first."""
    with scopes_disabled():  # expired uploads of every clinic, each removed by its own id
        return services.cleanup_expired_uploads()


@shared_task(name="documents.sweep_orphan_objects")
def sweep_orphan_objects() -> int:
    """Run by beat once a day (low queue): remove stored objects no document or version names,
    left by a process that died between storing an object and writing its row, or by a row write
    that failed while S3 was unreachable for the compensating delete. Returns how many."""
    with scopes_disabled():  # the bucket holds every clinic's objects; each is looked up by its key
        return services.orphan_objects_remove()
