from django.db import models

from keneyapp.core.scoping import ClinicScopedManager


class TenantRowCount(models.Model):
    """How many rows a clinic has in a counted table (e.g. active patients), kept exact by
    database triggers (keneyapp.core.row_counts), so a list's `total` is one indexed read
    instead of a COUNT(*) over the whole clinic (tens of milliseconds at 100,000 rows)."""

    tenant = models.ForeignKey("accounts.Tenant", on_delete=models.CASCADE, related_name="+", db_index=False)
    counter = models.CharField(max_length=64)
    total = models.BigIntegerField(default=0)

    objects = ClinicScopedManager()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["tenant", "counter"], name="tenant_row_count_unique")]

    def __str__(self) -> str:
        return f"{self.counter} of clinic {self.tenant_id}: {self.total}"


class AuditEvent(models.Model):
    """One access to patient-linked data, through any door (keneyapp.core.audit): append-only.

    Who, when, what, through which door, from where, and the outcome. Never a value: a change names
    the fields changed, a list the query's parameter names, never what was typed or stored. Users
    and patients are plain ids, not foreign keys: the trail outlives them and inserting it checks
    nothing (one statement per request, see keneyapp.core.audit.AuditTrail.flush). The database
    refuses every UPDATE and every DELETE but the retention command's
    (keneyapp.core.audit.AppendOnly, migration core/0002).
    """

    class Door(models.TextChoices):
        API = "api", "API"
        ADMIN = "admin", "Admin"
        WEBSOCKET = "websocket", "Websocket"
        TASK = "task", "Task"
        COMMAND = "command", "Command"

    class Action(models.TextChoices):
        VIEW = "view", "View"
        LIST = "list", "List or search"
        CREATE = "create", "Create"
        CHANGE = "change", "Change"
        DELETE = "delete", "Delete"
        DOWNLOAD = "download", "Download"
        REPORT = "report", "Report"
        EXPORT = "export", "Export"
        RESTORE = "restore", "Restore"
        PURGE = "purge", "Retention purge"

    class Outcome(models.TextChoices):
        ALLOWED = "allowed", "Allowed"
        DENIED = "denied", "Refused by role"
        # An id of another clinic, or no such row: the caller got a 404, and tried.
        ATTEMPTED = "attempted", "Attempted (unknown or another clinic's id)"

    at = models.DateTimeField()
    # The caller's clinic (a superuser's: the object's, when known).
    tenant = models.ForeignKey(
        "accounts.Tenant", on_delete=models.PROTECT, related_name="+", db_index=False, null=True
    )
    user_id = models.BigIntegerField(null=True)
    role = models.CharField(max_length=20, blank=True)
    door = models.CharField(max_length=10, choices=Door.choices)
    action = models.CharField(max_length=10, choices=Action.choices)
    outcome = models.CharField(max_length=10, choices=Outcome.choices, default=Outcome.ALLOWED)
    model = models.CharField(max_length=64)  # app_label.model_name
    object_id = models.BigIntegerField(null=True)
    patient_id = models.BigIntegerField(null=True)
    # Names only: the fields a change changed; the query parameters a list was given.
    fields = models.JSONField(default=list, blank=True)
    params = models.JSONField(default=list, blank=True)
    route = models.CharField(max_length=100, blank=True)  # URL name, admin view, task or command name
    address = models.CharField(max_length=45, blank=True)  # client IP (keneyapp.core.network)

    objects = ClinicScopedManager()

    class Meta:
        verbose_name = "audit event"
        ordering = ["-at", "-id"]
        indexes = [
            models.Index(fields=["tenant", "patient_id", "-at"], name="audit_tenant_patient_at"),
            models.Index(fields=["tenant", "user_id", "-at"], name="audit_tenant_user_at"),
            models.Index(fields=["tenant", "-at"], name="audit_tenant_at"),
        ]

    def __str__(self) -> str:
        return f"{self.action} {self.model} {self.object_id or ''} by user {self.user_id} ({self.outcome})"


class AuditFlag(models.Model):
    """A user whose accesses look unusual in one hour (keneyapp.core.audit_flags, a beat task):
    more distinct patients than AUDIT_UNUSUAL_PATIENTS_PER_HOUR, or another clinic's ids tried."""

    class Reason(models.TextChoices):
        MANY_PATIENTS = "many_patients", "Many distinct patients in an hour"
        CROSS_CLINIC = "cross_clinic", "Tried unknown or another clinic's ids"

    tenant = models.ForeignKey("accounts.Tenant", on_delete=models.PROTECT, related_name="+", db_index=False)
    user_id = models.BigIntegerField()
    reason = models.CharField(max_length=20, choices=Reason.choices)
    hour = models.DateTimeField()  # the hour (UTC) the accesses fall in
    count = models.PositiveIntegerField()  # distinct patients, or attempted accesses
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ClinicScopedManager()

    class Meta:
        verbose_name = "unusual access flag"
        ordering = ["-hour", "user_id"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "user_id", "reason", "hour"], name="audit_flag_unique")
        ]

    def __str__(self) -> str:
        return (
            f"user {self.user_id}: {self.get_reason_display()} ({self.count}) at {self.hour:%Y-%m-%d %H}:00"
        )
