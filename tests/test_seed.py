import io
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
    # operator, supervisor, the phone system's account (SPEC §9), per agency its desk and its
    # field officer (SPEC §7), and the inactive accounts of the demo's Open311 app and peer
    # centre (SPEC §10) that their reports are made by
    assert get_user_model().objects.count() == users == 3 + 2 * len(SPEC_AGENCIES) + 2
    assert set(
        get_user_model().objects.filter(is_active=False).values_list("username", flat=True)
    ) == {"open311.lapor", "eido.kendal"}
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


# --- The demo city's past (issue 17 §8) ------------------------------------------------------


@pytest.fixture
def demo_with_history(db, settings):
    settings.DEBUG = True  # demo users (and their past) exist in the embedded mode only
    call_command("seed_demo", "--history", "3", stdout=io.StringIO())


def test_the_history_looks_like_a_city_s_calls(demo_with_history):
    from django.utils import timezone

    from reports.models import Call, Report

    outcomes = Counter(Call.objects.values_list("outcome", flat=True))
    assert 0.33 <= (outcomes["prank"] + outcomes["ghost"]) / sum(outcomes.values()) <= 0.43
    reports = Report.objects.prefetch_related("assignments__agency").select_related("category")
    assert reports.count() == outcomes["report"] > 100
    start_of_today = timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0)
    for report in reports:
        assert {a.agency.code for a in report.assignments.all()} == SPEC_ROUTING[
            report.category.code
        ]
        assert report.received_at < start_of_today and report.status == "closed"
        for a in report.assignments.all():
            end = a.resolved_at or a.rejected_at
            steps = [a.received_at, a.notified_at, a.acknowledged_at, a.dispatched_at,
                     a.arrived_at, end]  # fmt: skip
            present = [s for s in steps if s is not None]
            assert present == sorted(present) and end <= report.closed_at
    assert Call.objects.filter(outcome="report", report=None).count() == 0


def test_the_history_ranks_fast_and_slow_agencies(demo_with_history):
    from datetime import timedelta

    from django.utils import timezone

    from performance.selectors import PerformanceFilter, agency_performance

    today = timezone.localdate()
    rows = agency_performance(PerformanceFilter(since=today - timedelta(days=3), until=today))
    medians = {r["agency"]: r["response_seconds_median"] for r in rows if r["arrived"]}
    assert len(medians) >= 6
    assert medians["pln"] > 2 * medians["damkar"]  # a ranking worth a supervisor's look
    assert sum(r["escalated"] for r in rows) > 0


def test_the_history_is_written_once_and_today_s_numbering_goes_on(demo_with_history, settings):
    from reports import services
    from reports.models import Call, Report

    before = (Report.objects.count(), Call.objects.count())
    call_command("seed_demo", "--history", "3", stdout=io.StringIO())
    assert (Report.objects.count(), Call.objects.count()) == before
    operator = get_user_model().objects.get(username="operator")
    report = services.report_create(
        operator=operator, caller_phone="081234567890", category="kebakaran",
        description="Asap", address="Pasar Johar", kecamatan="semarang_utara",
    )  # fmt: skip
    assert report.number.endswith("-0001")  # today starts at one: the past is before it


def test_the_history_is_the_same_for_the_same_seed(db, settings):
    from reports.demo_history import seed_history
    from reports.models import Assignment, Call, Report, ReportCounter

    settings.DEBUG = True
    call_command("seed_demo", stdout=io.StringIO())

    def written():
        seed_history(2, seed=7)
        return list(Report.objects.order_by("number").values_list("number", "caller_phone"))

    first = written()
    Call.objects.all().delete()
    Assignment.objects.all().delete()
    Report.objects.all().delete()
    ReportCounter.objects.all().delete()
    assert written() == first
