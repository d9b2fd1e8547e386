"""Management commands are a door too: a command that reads or exports patient data records it
(keneyapp.core.audit.audited, door "command"); every other command says here why it needs not.
A new command fails until it does one or the other."""

import inspect

from django.apps import apps
from django.core.management import find_commands, load_command_class

# Commands of the project that read no real patient's data, and why.
WITHOUT_PATIENT_DATA = {
    "seed_demo": "creates the demo clinics' made-up patients (refused on a real deployment)",
    "create_tenant": "creates a clinic and its administrator",
    "warm_cache": "recomputes the dashboards' counts: no patient is named",
    "cache_stats": "prints cache hit counts",
    "documents_create_bucket": "creates the storage bucket",
}
PROJECT_APPS = ("keneyapp", "patients", "appointments", "documents", "messaging", "dashboard", "demo")


def project_commands() -> dict[str, str]:
    found = {}
    for config in apps.get_app_configs():
        if config.name.split(".")[0] in PROJECT_APPS:
            for name in find_commands(f"{config.path}/management"):
                found[name] = config.name
    return found


def test_every_command_records_its_accesses_or_says_why_not():
    problems = []
    for name, app in sorted(project_commands().items()):
        module = inspect.getmodule(type(load_command_class(app, name)))
        records = "audit." in inspect.getsource(module)
        if records == (name in WITHOUT_PATIENT_DATA):
            problems.append(f"{name}: record with keneyapp.core.audit, or list it in WITHOUT_PATIENT_DATA")
    assert set(WITHOUT_PATIENT_DATA) <= set(project_commands())  # no stale entry
    assert problems == []
