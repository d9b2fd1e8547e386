"""The admin writes through the services, as the API does.

A clinic-owned object's rules (a booking's clash check, its status table, its end in UTC, a
patient's unique record number) and its side effects after commit (cache invalidation, live
events) live in its domain's service, once. An admin form checks only the input's shape (types,
choices, lengths); its save is the service's call, and what the service refuses is shown as form
errors, never as a 500. A delete is the service's (a soft delete for the medical record).
"""

import copy
from collections.abc import Iterable

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from keneyapp.core.errors import ConflictError


class ServiceSavedFormMixin:
    """For a model form whose object a service saved when the form was validated: the service's
    refusals become form errors, and the admin's save saves nothing more. ServiceModelForm's
    base; also the staff creation form's (keneyapp/accounts/admin_staff.py), which is a
    UserCreationForm."""

    # The service's name of a field (the API's, e.g. "patient_id") -> the form field showing it.
    service_error_fields: dict[str, str] = {}

    def _add_service_error(self, error: ValidationError) -> None:
        if not hasattr(error, "error_dict"):
            self.add_error(None, error)  # type: ignore[attr-defined]
            return
        for name, problems in error.error_dict.items():
            field = self.service_error_fields.get(name, name)
            self.add_error(field if field in self.fields else None, problems)  # type: ignore[attr-defined]

    def save(self, commit=True):
        """The service saved the object when the form was validated; nothing is left to save."""
        if self.errors:
            raise ValueError("The form has errors: the service did not save.")
        self.save_m2m = lambda: None
        return self.instance


class ServiceModelForm(ServiceSavedFormMixin, forms.ModelForm):
    """A model form whose save is a service call, made by `save_through_service()`.

    The service runs when the form is validated, because that is the last moment its refusal can
    still become a form error: the admin saves after validation and answers with a redirect. The
    admin's add and change views run in one transaction, so the write commits with the view and
    the service's on-commit work runs after it. An admin using this form has no editable inlines
    (they would be validated after the write).
    """

    # The form field showing the service's PermissionDenied (None: the whole form).
    permission_denied_field: str | None = None
    # The user saving, set by the admin (ServiceAdminMixin.get_form).
    request_user = None

    def save_through_service(self) -> models.Model:
        """Create or update through the domain's service and return the saved object.

        `self.instance` is the object as loaded (None pk when adding); `self.cleaned_data` and
        `self.changed_data` say what the user asks for.
        """
        raise NotImplementedError

    def conflict_message(self, error: ConflictError) -> str:
        return error.detail

    def _post_clean(self):
        # Django's model validation (field validators, check constraints) writes the form's values
        # into the instance it validates: give it a scratch copy, so the service compares the
        # request with the object as stored and writes only what changed.
        loaded = self.instance
        self.instance = copy.copy(loaded)
        # The model's constraints are the service's to check, in the API's words: Django's own
        # messages name the constraint or the clinic's internal field ("Constraint
        # “working_hours_end_after_start” is violated", "Patient with this Tenant and ...").
        self.instance.validate_constraints = lambda exclude=None: None
        super()._post_clean()
        self.instance = loaded
        if self.errors:
            return
        try:
            self.instance = self.save_through_service()
        except ValidationError as error:
            self._add_service_error(error)
        except ConflictError as error:
            self.add_error(None, self.conflict_message(error))
        except PermissionDenied as error:
            self.add_error(self.permission_denied_field, str(error) or gettext("Your role may not do this."))


class ServiceAdminMixin:
    """For a ModelAdmin whose form is a ServiceModelForm (put it before TenantScopedAdmin)."""

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change, **kwargs)
        form.request_user = request.user
        return form

    def get_readonly_fields(self, request, obj=None):
        # An object stays in the clinic it was created in (its patient, provider, appointments
        # and documents are of that clinic): the services create in a clinic, never move.
        readonly = super().get_readonly_fields(request, obj)
        return readonly if obj is None else (self.tenant_field, *readonly)

    def save_model(self, request, obj, form, change):
        """Saved already, by the form's service (the clinic came from the form's locked field)."""


class SoftDeleteAdminMixin:
    """For a ModelAdmin whose deletes hide rows (`soft_delete(obj)`, the domain service's).

    Nothing else is removed, so no other row protects the object and none is listed: the
    confirmation page names only the objects deleted (never, say, the messages of other staff
    that mention a patient), in the delete view and the "delete selected" action alike.
    """

    model: type[models.Model]  # the ModelAdmin's
    soft_delete_message = _("Deleted rows are hidden but kept in the record.")

    def soft_delete(self, obj) -> None:
        raise NotImplementedError

    def delete_model(self, request, obj):
        self.soft_delete(obj)

    def delete_queryset(self, request, queryset):
        for obj in queryset:
            self.soft_delete(obj)
        messages.info(request, self.soft_delete_message)

    def get_deleted_objects(self, objs: Iterable, request):
        objs = list(objs)
        model_count = {self.model._meta.verbose_name_plural: len(objs)}
        return [str(obj) for obj in objs], model_count, set(), []
