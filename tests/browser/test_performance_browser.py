"""The performance page in a real browser: the ranking, both charts drawn by the vendored
Chart.js, sorting by a header."""

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone
from playwright.sync_api import expect

from performance.selectors import this_month
from reports import services
from reports.models import Assignment

from .conftest import screenshot

pytestmark = pytest.mark.browser


def seed_month(settings) -> None:
    """Reports of this month (WIB) with hand-set times: Damkar fast and ranked, Dishub slower
    and ranked, Polrestabes on too few samples; a few pranks and information calls."""
    settings.DISPATCH_RECEIVED_AT_MAX_AGE = timedelta(days=62)
    operator = get_user_model().objects.get(username="operator")
    start, now = this_month().start, timezone.now()
    span = now - start

    def received(index: int, of: int):
        # Spread over the month so far, never before its first day nor in the future.
        return start + span * (index + 0.5) / of - timedelta(minutes=30)

    plan = [("kebakaran", 12, {"damkar": 240}), ("kemacetan", 12, {"dishub": 540})]
    plan += [("kriminal", 3, {"polrestabes": 900})]
    for category, count, responses in plan:
        for index in range(count):
            at = max(received(index, count), start + timedelta(minutes=1))
            report = services.report_create(
                operator=operator, caller_phone="081234567890", caller_name="Budi",
                category=category, agencies=list(responses), description="Latihan",
                address="Jl. Pemuda", kecamatan="semarang_tengah", received_at=at,
            )  # fmt: skip
            for code, seconds in responses.items():
                Assignment.objects.filter(report=report, agency__code=code).update(
                    status="resolved",
                    notified_at=at + timedelta(seconds=5),
                    acknowledged_at=at + timedelta(seconds=40),
                    arrived_at=at + timedelta(seconds=seconds + 30 * (index % 4)),
                    resolved_at=at + timedelta(seconds=seconds + 1800),
                )
    for outcome in ("prank", "ghost", "information"):
        services.call_log(operator=operator, caller_phone="081299990000", outcome=outcome)


def test_a_supervisor_reads_the_ranking_and_the_charts(page_for, server_url, settings):
    seed_month(settings)
    page = page_for("supervisor")
    page.goto(f"{server_url}/performance/")

    ranking = page.locator("#ranking tbody tr")
    expect(ranking.first).to_have_attribute("data-agency", "damkar")
    expect(ranking.nth(1)).to_have_attribute("data-agency", "dishub")
    expect(ranking.first.locator("td").first).to_have_text("1")
    police = page.locator('#ranking tr[data-agency="polrestabes"]')
    expect(police).to_have_class("unranked thin")
    expect(police).to_contain_text("sampel < 10, tidak diperingkat")

    for canvas in ("calls-chart", "reports-chart"):
        expect(page.locator(f"#{canvas}")).to_be_visible()
        page.wait_for_function(
            f"window.Chart && Chart.getChart(document.getElementById('{canvas}')) !== undefined"
        )
    drawn = page.evaluate(
        """() => ['calls-chart', 'reports-chart'].map((id) => {
            const chart = Chart.getChart(document.getElementById(id));
            const total = (d) => d.data.reduce((a, b) => a + b, 0);
            return [chart.config.type, chart.data.datasets.length,
                    chart.data.datasets.reduce((sum, d) => sum + total(d), 0)];
        })"""
    )
    assert drawn == [["bar", 6, 27 + 3], ["line", 1, 27]]  # every call; every report

    # Sort by the number of assignments: fewest first, then most first; ties keep the
    # ranking's order (Damkar and Dishub have 12 each, Polrestabes 3).
    header = page.locator("#ranking thead th").nth(2)
    header.locator("button").click()
    expect(header).to_have_attribute("aria-sort", "ascending")
    expect(ranking.nth(0)).to_have_attribute("data-agency", "ambulans")  # none; by code
    header.locator("button").click()
    expect(header).to_have_attribute("aria-sort", "descending")
    expect(ranking.nth(0)).to_have_attribute("data-agency", "damkar")
    expect(ranking.nth(2)).to_have_attribute("data-agency", "polrestabes")

    # Sort by the median response: fastest first, agencies without a sample last.
    median = page.locator("#ranking thead th").nth(10)
    median.locator("button").click()
    order = ranking.evaluate_all("(rows) => rows.map((r) => r.dataset.agency)")
    assert order[:3] == ["damkar", "dishub", "polrestabes"]
    expect(page.locator('#distribution tr[data-agency="damkar"] td').nth(1)).to_have_text("12")

    page.locator("#ranking thead th").nth(0).locator("button").click()  # back to the ranking
    expect(ranking.first).to_have_attribute("data-agency", "damkar")
    screenshot(page, "performance")

    page.locator('#ranking tr[data-agency="dishub"] a').click()
    expect(page.locator("#slowest tbody tr")).to_have_count(12)

    # The assignments export, streamed by the real ASGI server: one line per assignment.
    export = page.request.get(f"{server_url}/performance/assignments.csv")
    assert export.status == 200
    assert export.headers["content-type"] == "text/csv; charset=utf-8"
    assert len(export.text().splitlines()) == 1 + 27
