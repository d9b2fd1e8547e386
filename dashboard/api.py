"""Dashboard API: one thin view over the cached selector."""

from drf_spectacular.utils import extend_schema
from rest_framework.response import Response

from dashboard import selectors
from dashboard.serializers import DashboardStatsOutput
from keneyapp.accounts.permissions import IsClinicStaff, RolePermission
from keneyapp.core.views import ClinicApiView


class DashboardStatsApi(ClinicApiView):
    permission_classes = [IsClinicStaff, RolePermission]
    role_actions = {"GET": "dashboard.view"}
    audit_exempt = "the clinic's counts: no patient is named"

    @extend_schema(operation_id="dashboard_stats", responses=DashboardStatsOutput)
    def get(self, request):
        tenant = request.user.tenant
        stats = selectors.dashboard_stats_cached(tenant)
        return Response(
            {
                "clinic": {"id": tenant.pk, "name": tenant.name, "timezone": tenant.timezone},
                "patients": stats["patients"],
                "appointments": stats["appointments"],
                "messages": {"unread": selectors.unread_messages(request.user)},
                "documents": stats["documents"],
                "computed_at": stats["computed_at"],
            }
        )
