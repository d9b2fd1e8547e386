"""Keep the number of active patients per clinic exact in core_tenantrowcount (database triggers),
so the patient list's `total` costs one indexed read instead of a COUNT over the clinic."""

from django.db import migrations

from keneyapp.core.row_counts import CountRowsPerTenant


class Migration(migrations.Migration):
    dependencies = [("patients", "0002_search_trigram_index"), ("core", "0001_initial")]

    operations = [CountRowsPerTenant(counter="patients.active", table="patients_patient", flag="is_deleted")]
