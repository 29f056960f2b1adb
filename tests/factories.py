import factory
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from agencies.models import Agency, AgencyMember, Category, Kecamatan, MemberRole, Unit, UnitKind
from agencies.roles import OPERATOR_GROUP, SUPERVISOR_GROUP, TELEPHONY_GROUP


class AgencyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Agency
        django_get_or_create = ["code"]

    code = factory.Sequence(lambda n: f"agency{n}")
    name = factory.LazyAttribute(lambda o: f"Agency {o.code}")
    short_name = factory.LazyAttribute(lambda o: o.code.upper())


class CategoryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Category
        django_get_or_create = ["code"]

    code = factory.Sequence(lambda n: f"category{n}")
    name = factory.LazyAttribute(lambda o: f"Category {o.code}")
    default_priority = 2

    @factory.post_generation
    def default_agencies(self, create, extracted, **kwargs):
        if create and extracted:
            self.default_agencies.set(extracted)


class KecamatanFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Kecamatan
        django_get_or_create = ["code"]

    code = factory.Sequence(lambda n: f"kecamatan{n}")
    name = factory.LazyAttribute(lambda o: o.code.title())


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ["username"]
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    password = factory.PostGenerationMethodCall("set_password", "secret-112")

    @factory.post_generation
    def group(self, create, extracted, **kwargs):
        """UserFactory(group="operator") puts the user in that group."""
        if create:
            if extracted:
                self.groups.add(Group.objects.get_or_create(name=extracted)[0])
            self.save()


class OperatorFactory(UserFactory):
    username = factory.Sequence(lambda n: f"operator{n}")
    group = factory.PostGeneration(
        lambda user, create, extracted, **kw: _join(user, OPERATOR_GROUP)
    )


class TelephonyFactory(UserFactory):
    """The phone system's service account (SPEC §9)."""

    username = factory.Sequence(lambda n: f"pbx{n}")
    group = factory.PostGeneration(
        lambda user, create, extracted, **kw: _join(user, TELEPHONY_GROUP)
    )


class SupervisorFactory(UserFactory):
    username = factory.Sequence(lambda n: f"supervisor{n}")
    group = factory.PostGeneration(
        lambda user, create, extracted, **kw: _join(user, SUPERVISOR_GROUP)
    )


def _join(user, group_name: str) -> None:
    user.groups.add(Group.objects.get_or_create(name=group_name)[0])
    user.save()


class AgencyStaffFactory(UserFactory):
    """A staff user of `agency` (pass agency=<Agency>)."""

    username = factory.Sequence(lambda n: f"staff{n}")
    membership = factory.RelatedFactory(
        "tests.factories.AgencyMemberFactory",
        factory_related_name="user",
        agency=factory.SelfAttribute("..agency"),
    )

    class Params:
        agency = factory.SubFactory(AgencyFactory)


class AgencyMemberFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = AgencyMember

    user = factory.SubFactory(UserFactory)
    agency = factory.SubFactory(AgencyFactory)


class UnitFactory(factory.django.DjangoModelFactory):
    """A unit of `agency` (pass agency=<Agency>)."""

    class Meta:
        model = Unit

    agency = factory.SubFactory(AgencyFactory)
    call_sign = factory.Sequence(lambda n: f"U-{n:02d}")
    kind = UnitKind.AMBULANCE


class FieldOfficerFactory(UserFactory):
    """A field officer of `agency`, signed on to no unit (tests sign on with the service or
    the conftest's field_officer_of)."""

    username = factory.Sequence(lambda n: f"field{n}")
    membership = factory.RelatedFactory(
        "tests.factories.AgencyMemberFactory",
        factory_related_name="user",
        agency=factory.SelfAttribute("..agency"),
        role=MemberRole.FIELD,
    )

    class Params:
        agency = factory.SubFactory(AgencyFactory)


# --- The seeded city's people and things (the `city` fixture's configuration must exist) -------


def staff_of(code: str):
    """A staff user of the seeded agency `code`."""
    return AgencyStaffFactory(agency=Agency.objects.get(code=code))


def unit_of(code: str, call_sign: str, **fields):
    """A unit of the seeded agency `code`."""
    return UnitFactory(agency=Agency.objects.get(code=code), call_sign=call_sign, **fields)


def field_officer_of(code: str, unit=None):
    """A field officer of the seeded agency `code`, signed on to `unit` if given."""
    officer = FieldOfficerFactory(agency=Agency.objects.get(code=code))
    if unit is not None:
        member = officer.agency_membership
        member.unit = unit
        member.save(update_fields=["unit"])
    return officer


def new_report(*, operator, **overrides):
    """A report logged by `operator` through the service, with sensible defaults for the
    fields a test does not care about."""
    from reports import services

    fields = {
        "operator": operator,
        "caller_phone": "081234567890",
        "caller_name": "Budi Santoso",
        "category": "kemacetan",
        "description": "Macet total di simpang lima",
        "address": "Jl. Pahlawan",
        "kecamatan": "semarang_tengah",
    }
    fields.update(overrides)
    return services.report_create(**fields)
