from datetime import UTC, date, datetime, timedelta

import factory
from factory.django import DjangoModelFactory

from appointments.models import Appointment, AppointmentStatus
from keneyapp.accounts.models import Tenant, User
from keneyapp.accounts.roles import Role
from keneyapp.core.scoping import scopes_disabled
from messaging.models import Message
from patients.models import Patient, Sex
from patients.services import patient_search_text

DEFAULT_PASSWORD = "correct horse battery staple"


class TenantFactory(DjangoModelFactory):
    class Meta:
        model = Tenant
        django_get_or_create = ("slug",)

    name = factory.Sequence(lambda n: f"Clinic {n}")
    slug = factory.Sequence(lambda n: f"clinic-{n}")
    timezone = "Africa/Dakar"


class UserFactory(DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"staff{n}")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.org")
    tenant = factory.SubFactory(TenantFactory)
    role = Role.DOCTOR
    is_staff = True
    password = factory.PostGenerationMethodCall("set_password", DEFAULT_PASSWORD)

    @factory.post_generation
    def _save_password(obj, create, extracted, **kwargs):
        if create:
            obj.save(update_fields=["password"])


class PatientFactory(DjangoModelFactory):
    class Meta:
        model = Patient

    tenant = factory.SubFactory(TenantFactory)
    mrn = factory.Sequence(lambda n: f"T{n:07d}")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    date_of_birth = date(1980, 5, 17)
    sex = Sex.FEMALE
    email = factory.Sequence(lambda n: f"patient{n}@example.org")
    phone_number = factory.Sequence(lambda n: f"+221 77 {n:07d}")
    search_text = factory.LazyAttribute(
        lambda p: patient_search_text(
            first_name=p.first_name,
            last_name=p.last_name,
            email=p.email,
            phone_number=p.phone_number,
            mrn=p.mrn,
        )
    )


class AppointmentFactory(DjangoModelFactory):
    """An unassigned appointment by default; pass provider= for a provider's calendar."""

    class Meta:
        model = Appointment

    tenant = factory.SubFactory(TenantFactory)
    patient = factory.SubFactory(PatientFactory, tenant=factory.SelfAttribute("..tenant"))
    provider = None
    appointment_date = factory.Sequence(lambda n: datetime(2030, 1, 7, 9, 0, tzinfo=UTC) + timedelta(hours=n))
    duration_minutes = 30
    ends_at = factory.LazyAttribute(lambda a: a.appointment_date + timedelta(minutes=a.duration_minutes))
    status = AppointmentStatus.SCHEDULED
    reason = "Check-up"


class MessageFactory(DjangoModelFactory):
    """A message between two staff members of one clinic (made for you unless given)."""

    class Meta:
        model = Message
        skip_postgeneration_save = True

    tenant = factory.SubFactory(TenantFactory)
    sender = factory.SubFactory(UserFactory, tenant=factory.SelfAttribute("..tenant"))
    receiver = factory.SubFactory(UserFactory, tenant=factory.SelfAttribute("..tenant"))
    subject = "About a patient"
    body = factory.Sequence(lambda n: f"Message number {n}")

    @factory.post_generation
    def _own_thread(obj, create, extracted, **kwargs):
        # A first message is its own thread, as messaging.services.message_send makes it.
        if create and obj.thread_id is None:
            obj.thread_id = obj.pk
            with scopes_disabled():
                Message.objects.filter(pk=obj.pk).update(thread_id=obj.pk)
