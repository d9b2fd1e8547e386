from django.apps import AppConfig


class FaultPointsConfig(AppConfig):
    """Installed only in the fault tests' worker: the report renderer holds, on request, after
    the PDF is rendered and before it is stored (documents.tasks calls reports.render_patient_summary
    through the module, so replacing the module's attribute is enough)."""

    name = "tests.faults"
    label = "fault_points"

    def ready(self) -> None:
        from documents import reports
        from tests.faults.holds import hold

        render = reports.render_patient_summary

        def render_then_hold(patient, path):
            render(patient, path)
            hold("report")

        reports.render_patient_summary = render_then_hold
