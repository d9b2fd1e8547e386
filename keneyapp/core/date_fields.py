"""The admin's date and time fields say the format they read, in the active language.

Which formats are read is the language's format module (keneyapp/formats/<lang>/formats.py): in
French 31/01/2026 (and ISO), in English only 2026-01-31, so a date that reads two ways is never read
the wrong way. Each widget shows the expected format as its placeholder, and a value that does not
parse is a form error naming it (nothing saved). `FORMFIELD_OVERRIDES` is the admin base classes'
`formfield_overrides` (keneyapp.core.admin.TenantScopedAdmin, the accounts admin).
"""

import datetime

from django import forms
from django.contrib.admin import widgets
from django.db import models
from django.utils import formats
from django.utils.functional import lazy
from django.utils.translation import gettext

# A day past the 12th, so the example cannot be read with day and month swapped.
_EXAMPLE = datetime.datetime(2026, 1, 31, 14, 30, tzinfo=datetime.UTC)


def _pattern(strftime_format: str) -> str:
    """ "%d/%m/%Y" as the letters people read, in the active language ("DD/MM/YYYY", "JJ/MM/AAAA")."""
    letters = {
        "%d": gettext("DD"),
        "%m": gettext("MM"),
        "%Y": gettext("YYYY"),
        "%H": gettext("HH"),
        "%M": gettext("mm"),
        "%S": gettext("ss"),
    }
    text = strftime_format
    for code, shown in letters.items():
        text = text.replace(code, shown)
    return text


def date_format_hint() -> str:
    """The expected date, e.g. "DD/MM/YYYY" (French) or "YYYY-MM-DD" (English)."""
    return _pattern(formats.get_format("DATE_INPUT_FORMATS")[0])


def time_format_hint() -> str:
    """The expected time, e.g. "HH:mm"."""
    return _pattern(formats.get_format("TIME_INPUT_FORMATS")[0])


def invalid_date_message() -> str:
    first = formats.get_format("DATE_INPUT_FORMATS")[0]
    return gettext("Enter a valid date as %(format)s, e.g. %(example)s.") % {
        "format": date_format_hint(),
        "example": _EXAMPLE.strftime(first),
    }


def invalid_time_message() -> str:
    first = formats.get_format("TIME_INPUT_FORMATS")[0]
    return gettext("Enter a valid time as %(format)s, e.g. %(example)s.") % {
        "format": time_format_hint(),
        "example": _EXAMPLE.strftime(first),
    }


# Evaluated when a page renders or a form is checked, in that request's language.
date_hint = lazy(date_format_hint, str)
time_hint = lazy(time_format_hint, str)
invalid_date = lazy(invalid_date_message, str)
invalid_time = lazy(invalid_time_message, str)


class _DateHint:
    def __init__(self, attrs=None, format=None):
        super().__init__({"placeholder": date_hint(), "title": date_hint(), **(attrs or {})}, format)


class _TimeHint:
    def __init__(self, attrs=None, format=None):
        super().__init__({"placeholder": time_hint(), "title": time_hint(), **(attrs or {})}, format)


class HintedDateWidget(_DateHint, widgets.AdminDateWidget):
    pass


class HintedTimeWidget(_TimeHint, widgets.AdminTimeWidget):
    pass


class _HintedBaseDateWidget(_DateHint, widgets.BaseAdminDateWidget):
    pass


class _HintedBaseTimeWidget(_TimeHint, widgets.BaseAdminTimeWidget):
    pass


class HintedSplitDateTime(widgets.AdminSplitDateTime):
    def __init__(self, attrs=None):
        forms.MultiWidget.__init__(self, [_HintedBaseDateWidget, _HintedBaseTimeWidget], attrs)


FORMFIELD_OVERRIDES = {
    models.DateTimeField: {
        "widget": HintedSplitDateTime,
        "error_messages": {"invalid_date": invalid_date(), "invalid_time": invalid_time()},
    },
    models.DateField: {"widget": HintedDateWidget, "error_messages": {"invalid": invalid_date()}},
    models.TimeField: {"widget": HintedTimeWidget, "error_messages": {"invalid": invalid_time()}},
}
