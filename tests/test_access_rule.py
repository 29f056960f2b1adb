"""One rule for who sees what (issue 33, SPEC §13): reports.access answers in SQL and in memory,
and the two agree on any state of the assignments and any viewer; a field officer sees what
their unit serves now and what they did themselves, never earlier crews' callers."""

from __future__ import annotations

import itertools

import pytest
from django.utils import timezone
from hypothesis import HealthCheck, given, seed, settings
from hypothesis import strategies as st

from agencies.roles import Role
from reports import access, services
from reports.access import CallerFields, Viewer
from reports.api.serializers import ReportSerializer
from reports.models import Assignment, AssignmentStatus, Report
from reports.selectors import with_details
from units import services as units

from .api.conftest import JsonClient
from .factories import (
    AgencyFactory,
    CategoryFactory,
    FieldOfficerFactory,
    OperatorFactory,
    UnitFactory,
)

PHONE = "+6281234567890"
AGENCIES, UNITS_PER_AGENCY, OFFICERS_PER_AGENCY, REPORTS = 3, 2, 2, 5
BUSY = (AssignmentStatus.DISPATCHED, AssignmentStatus.ON_SCENE)


@pytest.fixture
def small_city(db):
    """Three agencies with two units and two field officers each, and five reports whose
    assignments each example writes anew."""
    operator, category = OperatorFactory(), CategoryFactory()
    agencies = [AgencyFactory(code=f"agency{i}") for i in range(AGENCIES)]
    units = {a.pk: [UnitFactory(agency=a) for _ in range(UNITS_PER_AGENCY)] for a in agencies}
    officers = {
        a.pk: [FieldOfficerFactory(agency=a) for _ in range(OFFICERS_PER_AGENCY)] for a in agencies
    }
    reports = [
        Report.objects.create(
            number=f"LAP-T-{i}",
            caller_phone=PHONE,
            caller_name="Budi",
            category=category,
            description="x",
            address="Jl. Pemuda",
            received_at=timezone.now(),
            operator=operator,
            priority=2,
        )
        for i in range(REPORTS)
    ]
    return {"agencies": agencies, "units": units, "officers": officers, "reports": reports}


# One agency's assignment on one report: absent, or (status, unit index, actor index per step).
assignment_states = st.one_of(
    st.none(),
    st.tuples(
        st.sampled_from(AssignmentStatus.values),
        st.one_of(st.none(), st.integers(0, UNITS_PER_AGENCY - 1)),
        st.lists(
            st.one_of(st.none(), st.integers(0, OFFICERS_PER_AGENCY - 1)), min_size=3, max_size=3
        ),
    ),
)
viewer_specs = st.tuples(
    st.sampled_from(list(Role)),
    st.one_of(st.none(), st.integers(0, AGENCIES - 1)),  # agency
    st.one_of(st.none(), st.integers(0, UNITS_PER_AGENCY - 1)),  # unit of that agency
    st.one_of(st.none(), st.integers(0, OFFICERS_PER_AGENCY - 1)),  # which officer
)


def write_state(world, states) -> list[Report]:
    Assignment.objects.all().delete()
    busy_units, rows = set(), []
    for (report, agency), state in zip(
        itertools.product(world["reports"], world["agencies"]), states, strict=True
    ):
        if state is None:
            continue
        status, unit_index, actors = state
        unit = world["units"][agency.pk][unit_index] if unit_index is not None else None
        if unit is not None and status in BUSY:
            if unit.pk in busy_units:  # one unit serves one assignment at a time
                unit = None
            busy_units.add(getattr(unit, "pk", None))
        officers = world["officers"][agency.pk]
        by = [officers[i] if i is not None else None for i in actors]
        rows.append(
            Assignment(
                report=report,
                agency=agency,
                status=status,
                notified_at=timezone.now(),
                received_at=timezone.now(),
                unit_ref=unit,
                unit=unit.call_sign if unit else "",
                eta_minutes=5 if status == AssignmentStatus.DISPATCHED else None,
                reject_reason="x" if status == AssignmentStatus.REJECTED else "",
                departed_by=by[0],
                arrived_by=by[1],
                resolved_by=by[2],
            )
        )
    Assignment.objects.bulk_create(rows)
    return list(with_details(Report.objects.all()).prefetch_related("assignments"))


def make_viewer(world, spec) -> Viewer:
    role, agency_index, unit_index, officer_index = spec
    agency = world["agencies"][agency_index] if agency_index is not None else None
    unit = officer = None
    if agency is not None and role == Role.FIELD:
        unit = world["units"][agency.pk][unit_index] if unit_index is not None else None
        officer = world["officers"][agency.pk][officer_index] if officer_index is not None else None
    return Viewer(
        role=role,
        agency_id=agency.pk if agency else None,
        unit_id=unit.pk if unit else None,
        user_id=officer.pk if officer else None,
        agency_code=agency.code if agency else None,
    )


def ids(queryset) -> set[int]:
    return set(queryset.values_list("pk", flat=True))


@seed(33)
@settings(
    max_examples=40,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    states=st.lists(assignment_states, min_size=REPORTS * AGENCIES, max_size=REPORTS * AGENCIES),
    specs=st.lists(viewer_specs, min_size=1, max_size=6),
)
def test_the_database_and_the_memory_forms_agree(small_city, states, specs):
    reports = write_state(small_city, states)
    assignments = [a for r in reports for a in r.assignments.all()]
    units = [u for us in small_city["units"].values() for u in us]
    for viewer in (make_viewer(small_city, spec) for spec in specs):
        assert ids(access.own_assignments(viewer)) == {
            a.pk for a in assignments if access.owns(viewer, a)
        }, viewer
        visible = {r.pk for r in reports if access.may_see_report(viewer, r)}
        assert ids(access.reports_visible_to(viewer)) == visible, viewer
        assert ids(access.reports_engaged_by(viewer)) == {
            r.pk for r in reports if access.takes_part(viewer, r)
        }, viewer
        assert ids(access.units_visible_to(viewer)) == {
            u.pk for u in units if access.may_see_unit(viewer, u)
        }, viewer
        for report in reports:
            data = ReportSerializer(report).data
            if report.pk in visible:
                # The caller as a list shows it = as a replayed payload shows it.
                assert access.caller_fields(viewer, report) == access.payload_caller_fields(
                    viewer, data
                ), (viewer, data["assignments"])
            audience = access.live_audience(
                {"kind": "report.updated", "report": data, "assignment": None}
            )
            if viewer.role == Role.AGENCY_STAFF and viewer.in_agency:
                assert (viewer.agency_code in audience.agencies) == access.takes_part(
                    viewer, report
                ), (viewer, data["assignments"])
            if viewer.role == Role.FIELD and viewer.unit_id in audience.units:
                # Every crew member of a unit in the audience may see it, with its caller.
                assert access.takes_part(viewer, report), (viewer, data["assignments"])
                assert access.caller_fields(viewer, report) == CallerFields.MASKED


def test_a_viewer_is_resolved_from_the_user(small_city, supervisor):
    officer = small_city["officers"][small_city["agencies"][0].pk][0]
    unit = small_city["units"][small_city["agencies"][0].pk][1]
    member = officer.agency_membership
    member.unit = unit
    member.save(update_fields=["unit"])
    viewer = Viewer.of(officer)
    assert (viewer.role, viewer.agency_id, viewer.unit_id, viewer.user_id) == (
        Role.FIELD, unit.agency_id, unit.pk, officer.pk,
    )  # fmt: skip
    assert Viewer.of(supervisor).sees_all
    assert Viewer.of(None).role == Role.NONE


# --- Finding 4: a field officer and the earlier crews of their unit ----------------------------


@pytest.fixture
def crews(make_report, staff_of, unit_of, field_officer_of):
    """AMB-01 served an earlier call (its night crew arrived and resolved it); the day crew
    signs on to it and is sent to a new one."""
    ambulans = staff_of("ambulans")
    amb = unit_of("ambulans", "AMB-01")
    night = field_officer_of("ambulans", unit=amb)
    earlier = make_report(
        category="darurat_medis", caller_phone="081311112222", caller_name="Siti Aminah"
    )
    job = earlier.assignments.get(agency__code="ambulans")
    services.assignment_acknowledge(assignment=job, actor=ambulans)
    services.assignment_dispatch(assignment=job, actor=ambulans, unit="AMB-01", eta_minutes=5)
    services.assignment_arrive(assignment=job, actor=night)
    services.assignment_resolve(assignment=job, actor=night)
    units.sign_off(officer=night, unit=amb)
    day = field_officer_of("ambulans", unit=amb)
    now = make_report(category="darurat_medis", caller_phone="081355556666")
    current = now.assignments.get(agency__code="ambulans")
    services.assignment_acknowledge(assignment=current, actor=ambulans)
    services.assignment_dispatch(assignment=current, actor=ambulans, unit="AMB-01", eta_minutes=5)
    return {"night": night, "day": day, "earlier": earlier, "now": now, "job": job}


def signed_in(user) -> JsonClient:
    client = JsonClient()
    client.force_login(user)
    return client


def test_a_field_officer_never_reads_the_callers_an_earlier_crew_served(crews):
    day = signed_in(crews["day"])
    listed = [r["number"] for r in day.get("/api/v1/reports/").json()["results"]]
    assert listed == [crews["now"].number]
    assert day.get(f"/api/v1/reports/{crews['earlier'].pk}/").status_code == 404
    assignments = [a["report"] for a in day.get("/api/v1/assignments/").json()["results"]]
    assert assignments == [crews["now"].pk]
    assert day.get(f"/api/v1/assignments/{crews['job'].pk}/").status_code == 404
    history = day.get("/agency/history/")
    assert crews["earlier"].number not in history.content.decode()


def test_a_field_officer_keeps_what_they_did_themselves(crews):
    night = signed_in(crews["night"])  # signed off since
    listed = [r["number"] for r in night.get("/api/v1/reports/").json()["results"]]
    assert listed == [crews["earlier"].number]
    detail = night.get(f"/api/v1/reports/{crews['earlier'].pk}/").json()
    assert detail["caller_phone"] == "+6281311112222"  # the logged reveal, as for staff
    assert crews["earlier"].number in night.get("/agency/history/").content.decode()


def test_the_snapshot_and_resume_of_the_day_crew_leave_out_the_earlier_call(crews):
    from reports.live_state import replay, snapshot

    day = crews["day"]
    shown = {a["report"]["number"] for a in snapshot(day)["assignments"]}
    assert shown == {crews["now"].number}
    replayed = {p["report"]["number"] for p in replay(day, 0) if "report" in p}
    assert crews["earlier"].number not in replayed


# --- Finding 1: the history page is no phone oracle ------------------------------------------


def test_the_history_page_does_not_search_a_callers_number(client, crews, staff_of):
    staff = staff_of("ambulans")
    client.force_login(staff)
    for typed in ("081311112222", "+62 813-1111-2222", "6281311112222"):
        response = client.get("/agency/history/", {"q": typed})
        assert response.status_code == 200
        assert crews["earlier"].number not in response.content.decode(), typed
        assert 'id="h-phone"' in response.content.decode()  # and it says why
    found = client.get("/agency/history/", {"q": crews["earlier"].number})
    assert crews["earlier"].number in found.content.decode()  # the report number still is


def test_history_searches_are_throttled_per_user(client, settings, staff_of):
    settings.API_RATE_LIMITS = {**settings.API_RATE_LIMITS, "page_search": "3/min"}
    first, second = staff_of("ambulans"), staff_of("ambulans")
    client.force_login(first)
    assert client.get("/agency/history/").status_code == 200  # a page, not a search
    codes = [client.get("/agency/history/", {"q": f"08123456{i:04d}"}).status_code
             for i in range(4)]  # fmt: skip
    assert codes == [200, 200, 200, 429]
    refused = client.get("/agency/history/", {"q": "kaligawe"})
    assert refused.status_code == 429 and int(refused["Retry-After"]) > 0
    client.force_login(second)  # counted per user
    assert client.get("/agency/history/", {"q": "kaligawe"}).status_code == 200
