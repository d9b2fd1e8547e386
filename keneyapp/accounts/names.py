"""How people are named on screens: "Dr Awa Ndiaye", not "awa.ndiaye".

One helper for a loaded user and for a row of values (a selector that reads names with
`.values()` does not load users), so a list column, a choice label, an autocomplete result and a
calendar say the same name.
"""

from django.utils.translation import gettext

from keneyapp.accounts.roles import Role


def person_name(*, first_name: str, last_name: str, username: str, role: str = "") -> str:
    """The full name (a doctor's with "Dr "), or the username when no name was entered."""
    full = f"{first_name} {last_name}".strip()
    if not full:
        return username
    if role == Role.DOCTOR:
        # Translators: the title before a doctor's full name, e.g. "Dr Awa Ndiaye".
        return gettext("Dr %(name)s") % {"name": full}
    return full


def user_name(user) -> str:
    return person_name(
        first_name=user.first_name, last_name=user.last_name, username=user.username, role=user.role
    )
