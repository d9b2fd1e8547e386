"""Messages in the admin: read-only, and a member of staff sees only the messages they sent or
received (as in the API: a message is private to its two people, even within the clinic).
Platform superusers see every clinic's messages, for support."""

from django.contrib import admin
from django.db.models import Q

from keneyapp.core.admin import TenantScopedAdmin, is_platform_admin
from messaging.models import Message


@admin.register(Message)
class MessageAdmin(TenantScopedAdmin):
    role_resource = "messages"
    audit_patient = "patient_id"
    list_display = ("id", "created_at", "sender", "receiver", "subject", "status", "is_urgent")
    list_filter = ("status", "is_urgent")
    list_select_related = ("sender", "receiver", "tenant")
    ordering = ("-id",)
    list_per_page = 50
    show_full_result_count = False
    readonly_fields = [field.name for field in Message._meta.fields]

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        if is_platform_admin(request):
            return queryset
        return queryset.filter(Q(sender=request.user) | Q(receiver=request.user))

    # Messages are written through the API (one service, events after commit), never edited here.
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
