"""Keep the number of appointments per clinic exact in core_tenantrowcount (database triggers),
so the clinic's unfiltered appointment list costs no COUNT over hundreds of thousands of rows."""

from django.db import migrations

from keneyapp.core.row_counts import CountRowsPerTenant


class Migration(migrations.Migration):
    dependencies = [("appointments", "0003_reminder_schedule"), ("core", "0001_initial")]

    operations = [CountRowsPerTenant(counter="appointments.all", table="appointments_appointment")]
