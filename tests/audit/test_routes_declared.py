"""Every API route says what it records: the model it shows or changes, or why it shows no
patient-linked data. A new route fails here until it says one or the other."""

from tests.test_tenant_isolation import api_routes


def test_every_api_route_is_audited_or_says_why_not():
    problems = []
    for name, (_, entry) in sorted(api_routes().items()):
        view = entry.callback.view_class
        if bool(view.audit_model) == bool(view.audit_exempt):
            problems.append(f"{name}: {view.__name__} must declare audit_model or audit_exempt (not both)")
    assert problems == []
