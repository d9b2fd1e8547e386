"""The admin's autocomplete (/admin/autocomplete/), whose results say enough to choose the right row.

Django's view labels each result with str(obj). A model may give a longer label for pickers,
`picker_label` (a patient's: name, record number, date of birth and phone, so namesakes can be
told apart); the rest is Django's view: the same permission checks, search and paging, and the
audit of the patients suggested (keneyapp.core.middleware.AdminAuditMiddleware, by the route name
"autocomplete").
"""

from django.contrib import admin
from django.contrib.admin.views.autocomplete import AutocompleteJsonView


class LabelledAutocompleteJsonView(AutocompleteJsonView):
    def serialize_result(self, obj, to_field_name):
        result = super().serialize_result(obj, to_field_name)
        label = getattr(obj, "picker_label", None)
        if isinstance(label, str):
            result["text"] = label
        return result


def autocomplete_view(request):
    return LabelledAutocompleteJsonView.as_view(admin_site=admin.site)(request)


# Wrapped as the admin wraps its own autocomplete view (signed-in staff only, never cached).
autocomplete = admin.site.admin_view(autocomplete_view)
