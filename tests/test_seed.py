from collections import Counter

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from agencies.models import Agency, AgencyMember, Category, Kecamatan, Unit
from agencies.roles import Role, user_agency, user_role

# SPEC §3, copied here on purpose: the test must fail if seed.py drifts from the spec.
SPEC_ROUTING = {
    "kemacetan": {"dishub", "polrestabes"},
    "kecelakaan": {"polrestabes", "ambulans", "dishub"},
    "kebakaran": {"damkar"},
    "darurat_medis": {"ambulans"},
    "ambulans": {"ambulans"},
    "kriminal": {"polrestabes"},
    "bencana": {"bpbd"},
    "banjir": {"bpbd", "dpu"},
    "pohon_tumbang": {"bpbd", "dpu"},
    "pju_padam": {"dpu"},
    "kamtibmas": {"satpolpp", "polrestabes"},
    "evakuasi_hewan": {"damkar"},
    "korsleting": {"damkar", "pln"},
    "penemuan_mayat": {"polrestabes", "ambulans"},
    "narkoba": {"polrestabes"},
    "lainnya": set(),
}
SPEC_AGENCIES = {
    "dishub",
    "polrestabes",
    "bpbd",
    "damkar",
    "dpu",
    "ambulans",
    "satpolpp",
    "pln",
    "basarnas",
}
SPEC_KECAMATAN = {
    "Banyumanik", "Candisari", "Gajahmungkur", "Gayamsari", "Genuk", "Gunungpati", "Mijen",
    "Ngaliyan", "Pedurungan", "Semarang Barat", "Semarang Selatan", "Semarang Tengah",
    "Semarang Timur", "Semarang Utara", "Tembalang", "Tugu",
}  # fmt: skip


@pytest.fixture(autouse=True)
def embedded_mode(settings):
    """`make run` seeds in the embedded mode, where DEBUG is on."""
    settings.DEBUG = True


def database_routing():
    return {
        c.code: {a.code for a in c.default_agencies.all()}
        for c in Category.objects.prefetch_related("default_agencies")
    }


@pytest.mark.django_db
def test_it_loads_exactly_the_spec_configuration():
    call_command("seed_demo")
    assert database_routing() == SPEC_ROUTING
    assert set(Agency.objects.values_list("code", flat=True)) == SPEC_AGENCIES
    assert set(Kecamatan.objects.values_list("name", flat=True)) == SPEC_KECAMATAN
    assert all(a.response_target_seconds == 600 and a.active for a in Agency.objects.all())


@pytest.mark.django_db
def test_it_is_idempotent():
    call_command("seed_demo")
    counts = (Agency.objects.count(), Category.objects.count(), Kecamatan.objects.count(),
              Unit.objects.count())  # fmt: skip
    users = get_user_model().objects.count()
    call_command("seed_demo")
    assert (Agency.objects.count(), Category.objects.count(), Kecamatan.objects.count(),
            Unit.objects.count()) == counts  # fmt: skip
    # operator, supervisor, and per agency its desk and its field officer (SPEC §7)
    assert get_user_model().objects.count() == users == 2 + 2 * len(SPEC_AGENCIES)
    assert database_routing() == SPEC_ROUTING


@pytest.mark.django_db
def test_the_demo_fleet_and_field_officers():
    """SPEC §7: units for every agency at their home kecamatan, one field officer each."""
    call_command("seed_demo")
    by_agency = Counter(Unit.objects.values_list("agency__code", flat=True))
    assert set(by_agency) == set(SPEC_AGENCIES)
    assert by_agency["ambulans"] == 6 and by_agency["damkar"] == 5
    assert not Unit.objects.filter(home_kecamatan__isnull=True).exists()
    assert not Kecamatan.objects.filter(latitude__isnull=True).exists()
    assert set(Unit.objects.values_list("status", flat=True)) == {"available"}
    for code in SPEC_AGENCIES:
        member = AgencyMember.objects.get(user__username=f"{code}-lapangan")
        assert (member.agency.code, member.role, member.unit) == (code, "field", None)
        assert member.user.check_password("demo112")
    Unit.objects.filter(call_sign="AMB-01").delete()  # an administrator retired it
    call_command("seed_demo")
    assert not Unit.objects.filter(call_sign="AMB-01").exists()  # not brought back


@pytest.mark.django_db
def test_a_rerun_keeps_what_an_administrator_changed():
    call_command("seed_demo")
    flood = Category.objects.get(code="banjir")
    flood.default_agencies.set(Agency.objects.filter(code__in=["bpbd", "basarnas"]))
    Agency.objects.filter(code="damkar").update(response_target_seconds=420)
    call_command("seed_demo")
    assert {a.code for a in flood.default_agencies.all()} == {"bpbd", "basarnas"}
    assert Agency.objects.get(code="damkar").response_target_seconds == 420


@pytest.mark.django_db
def test_a_rerun_never_brings_back_what_an_administrator_removed_or_renamed():
    call_command("seed_demo", no_users=True)
    Category.objects.get(code="lainnya").delete()
    Agency.objects.filter(code="basarnas").delete()
    Kecamatan.objects.filter(code="tugu").update(code="tugu_baru")
    Category.objects.filter(code="banjir").update(name="Banjir dan rob")
    call_command("seed_demo", no_users=True)
    assert not Category.objects.filter(code="lainnya").exists()
    assert not Agency.objects.filter(code="basarnas").exists()
    assert Kecamatan.objects.get(name="Tugu").code == "tugu_baru"
    assert Category.objects.filter(name__startswith="Banjir").count() == 1


@pytest.mark.django_db
def test_demo_users_have_their_roles_and_password(client):
    call_command("seed_demo")
    User = get_user_model()
    assert user_role(User.objects.get(username="operator")) == Role.OPERATOR
    assert user_role(User.objects.get(username="supervisor")) == Role.SUPERVISOR
    for code in SPEC_AGENCIES:
        user = User.objects.get(username=code)
        assert user_role(user) == Role.AGENCY_STAFF
        assert user_agency(user).code == code
    signed_in = client.post("/accounts/login/", {"username": "polrestabes", "password": "demo112"})
    assert signed_in.status_code == 302


@pytest.mark.django_db
def test_it_refuses_demo_users_when_debug_is_off(settings, capsys):
    settings.DEBUG = False
    call_command("seed_demo")  # not an error: `make run` in production mode goes on
    assert "Refusing to create demo users with DEBUG off" in capsys.readouterr().err
    assert not get_user_model().objects.exists()
    assert Category.objects.count() == len(SPEC_ROUTING)  # configuration is still loaded
    call_command("seed_demo", force_demo_users=True)
    assert get_user_model().objects.filter(username="operator").exists()


@pytest.mark.django_db
def test_no_users_loads_configuration_only():
    call_command("seed_demo", no_users=True)
    assert not get_user_model().objects.exists()
    assert database_routing() == SPEC_ROUTING
