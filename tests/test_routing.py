import pytest
from django.core.exceptions import ValidationError

from agencies.models import Agency, Category
from reports.models import Assignment, Event, Report

from .test_seed import SPEC_ROUTING

ROUTED = {code: agencies for code, agencies in SPEC_ROUTING.items() if agencies}


@pytest.mark.parametrize("category", sorted(ROUTED))
def test_it_fans_out_exactly_per_routing_table(make_report, category):
    report = make_report(category=category)
    assignments = list(report.assignments.select_related("agency"))
    assert {a.agency.code for a in assignments} == ROUTED[category]
    assert len(assignments) == len(ROUTED[category])
    assert all(a.status == "notified" and a.notified_at for a in assignments)
    created = Event.objects.filter(report=report, kind="assignment.created")
    assert sorted(e.assignment_id for e in created) == sorted(a.pk for a in assignments)


def test_explicit_agencies_replace_the_defaults(make_report):
    report = make_report(category="kemacetan", agencies=["dpu", "satpolpp"])
    assert {a.agency.code for a in report.assignments.all()} == {"dpu", "satpolpp"}


def test_explicit_agencies_are_deduplicated(make_report):
    report = make_report(category="kebakaran", agencies=["damkar", "ambulans", "damkar"])
    assert sorted(report.assignments.values_list("agency__code", flat=True)) == [
        "ambulans",
        "damkar",
    ]


def test_other_category_needs_an_explicit_choice(make_report):
    with pytest.raises(ValidationError) as raised:
        make_report(category="lainnya")
    assert "agencies" in raised.value.message_dict
    assert not Report.objects.exists()
    report = make_report(category="lainnya", agencies=["basarnas"])
    assert [a.agency.code for a in report.assignments.select_related("agency")] == ["basarnas"]


@pytest.mark.parametrize(
    "agencies", [[], ["nope"], ["dishub", "nope"], "dishub", [None], [{"code": "dishub"}]]
)
def test_it_rejects_bad_agency_lists_and_saves_nothing(make_report, agencies):
    with pytest.raises(ValidationError) as raised:
        make_report(category="kemacetan", agencies=agencies)
    assert "agencies" in raised.value.message_dict
    assert not Report.objects.exists()
    assert not Assignment.objects.exists()


def test_inactive_agencies_are_skipped_in_defaults_and_refused_explicitly(make_report):
    Agency.objects.filter(code="polrestabes").update(active=False)
    report = make_report(category="kemacetan")
    assert [a.agency.code for a in report.assignments.select_related("agency")] == ["dishub"]
    with pytest.raises(ValidationError, match="sudah tidak aktif"):
        make_report(category="kemacetan", agencies=["polrestabes"])


def test_routing_is_configuration(make_report):
    """An agency added by an administrator is routed to without a code change."""
    sar = Agency.objects.create(code="tagana", name="Taruna Siaga Bencana", short_name="Tagana")
    Category.objects.get(code="banjir").default_agencies.add(sar)
    report = make_report(category="banjir")
    assert {a.agency.code for a in report.assignments.all()} == {"bpbd", "dpu", "tagana"}
