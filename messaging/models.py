from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from keneyapp.core.encrypted_fields import EncryptedCharField, EncryptedTextField
from keneyapp.core.scoping import ClinicScopedManager

# The longest body accepted (characters): a long clinical note fits, a pasted document does not
# (documents have their own app). Settable, see MESSAGE_BODY_MAX_CHARS in settings.
SUBJECT_MAX_LENGTH = 200


class MessageStatus(models.TextChoices):
    # Written, not yet seen by the receiver.
    SENT = "sent", _("Sent")
    # The receiver's client fetched it from the API (list, detail or catch-up). A push over a
    # websocket does not count: the socket is a notification, the API read is the proof.
    DELIVERED = "delivered", _("Delivered")
    READ = "read", _("Read")


UNREAD = ~Q(status=MessageStatus.READ)
# An urgent message whose email is still owed: unread and not notified.
URGENT_DUE = Q(is_urgent=True, urgent_notified_at__isnull=True) & UNREAD


class Message(models.Model):
    """A message from one staff member to another of the same clinic, optionally about a patient.

    `thread` is the id of the conversation's first message (a first message is its own thread);
    a reply belongs to its parent's thread.
    """

    # No single-column tenant index: the composite indexes below all lead with it.
    tenant = models.ForeignKey(
        "accounts.Tenant",
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
        verbose_name=_("clinic"),
    )
    sender = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
        verbose_name=_("sender"),
    )
    receiver = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
        verbose_name=_("receiver"),
    )
    patient = models.ForeignKey(
        "patients.Patient",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
        verbose_name=_("patient"),
        help_text=_("The patient the message is about, if any."),
    )
    thread = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
        verbose_name=_("conversation"),
    )
    parent = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
        verbose_name=_("reply to"),
    )
    # Stored encrypted (keneyapp/core/encrypted_fields.py): messages carry clinical detail.
    subject = EncryptedCharField(_("subject"), max_length=SUBJECT_MAX_LENGTH, blank=True)
    body = EncryptedTextField(_("body"))
    status = models.CharField(
        _("status"), max_length=10, choices=MessageStatus.choices, default=MessageStatus.SENT
    )
    is_urgent = models.BooleanField(_("urgent"), default=False)
    delivered_at = models.DateTimeField(_("delivered at"), null=True, blank=True)
    read_at = models.DateTimeField(_("read at"), null=True, blank=True)
    # The urgent notification's email (messaging/tasks.py). `urgent_claimed_at`: when a worker
    # took the send, a lease of URGENT_NOTIFY_CLAIM_SECONDS during which no other delivery of the
    # task sends; one killed mid-send leaves it to expire, and the sweep queues the email again.
    # `urgent_notified_at`: when it was sent (or found nothing to send: no address), after which
    # nothing sends it again.
    urgent_claimed_at = models.DateTimeField(null=True, blank=True, editable=False)
    urgent_notified_at = models.DateTimeField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    objects = ClinicScopedManager()

    class Meta:
        verbose_name = _("message")
        verbose_name_plural = _("messages")
        constraints = [
            models.CheckConstraint(name="message_not_to_self", condition=~Q(sender=models.F("receiver"))),
            models.CheckConstraint(
                name="message_read_has_read_at",
                condition=~Q(status=MessageStatus.READ) | Q(read_at__isnull=False),
            ),
        ]
        indexes = [
            # The guide's receiver index, tenant first: the inbox, newest first, and catch-up
            # (after_id) both walk it.
            models.Index(fields=["tenant", "receiver", "id"], name="idx_message_inbox"),
            # The guide's status index, as the unread count and ?unread=true read it: partial, so
            # it holds only the unread rows and stays small however long the history.
            models.Index(fields=["tenant", "receiver", "id"], name="idx_message_unread", condition=UNREAD),
            models.Index(fields=["tenant", "sender", "id"], name="idx_message_sent"),
            models.Index(fields=["tenant", "thread", "id"], name="idx_message_thread"),
            # The sweep of urgent notifications (messaging.services.urgent_notifications_requeue):
            # partial, so it holds only the few urgent messages still unread and not notified.
            models.Index(fields=["created_at"], name="idx_message_urgent_due", condition=URGENT_DUE),
            # The urgent-notification task's lookup is by primary key; nothing else reads patient
            # or parent often enough to index them beyond the foreign keys' needs.
            models.Index(
                fields=["tenant", "patient"], name="idx_message_patient", condition=Q(patient__isnull=False)
            ),
        ]

    def __str__(self) -> str:
        return f"message {self.pk} from {self.sender_id} to {self.receiver_id} ({self.status})"
