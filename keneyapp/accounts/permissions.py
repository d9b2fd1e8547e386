from rest_framework.exceptions import PermissionDenied
from rest_framework.permissions import BasePermission

from keneyapp.accounts.roles import role_can


class IsClinicStaff(BasePermission):
    """The default for every API view: an authenticated user who belongs to a clinic."""

    message = "This account does not belong to a clinic."

    def has_permission(self, request, view) -> bool:
        user = request.user
        if user is None:
            return False  # DRF turns this into 401 because an authenticator is configured
        return user.tenant_id is not None


class RolePermission(BasePermission):
    """Checks the view's `role_actions` ({HTTP method: action}) against the roles table.

    Views that act on one object (a URL with `pk`) are checked only once the object is loaded
    (`check_object_permissions`), so an object of another clinic is 404, never 403.
    """

    def has_permission(self, request, view) -> bool:
        if "pk" in view.kwargs:
            return True
        return self._allowed(request, view)

    def has_object_permission(self, request, view, obj) -> bool:
        return self._allowed(request, view)

    @staticmethod
    def _allowed(request, view) -> bool:
        method = "GET" if request.method == "HEAD" else request.method
        action = view.role_actions.get(method)
        if action is None:
            # OPTIONS, or a method the view does not handle: DRF answers it (metadata or 405).
            return True
        if not role_can(request.user.role, action):
            raise PermissionDenied(f"Your role ({request.user.role}) may not {action.replace('.', ' ')}.")
        return True
