"""Intake survives a lost answer (issue 35 §2): `POST /api/v1/reports/` and `/calls/` honour
`Idempotency-Key` as the assignment actions do. The console sends one key per draft and
retries a send whose answer was lost: a flaky network never makes two reports."""

import threading

import pytest
from django.db import connection
from django.test import Client

from reports.models import Assignment, Call, Event, Report

from ..waiting import join_threads
from .test_reports_api import URL, VALID

KEY = {"Idempotency-Key": "draft-7c1e9b2a"}


def test_a_retried_report_is_made_once_and_answered_the_same(api, city):
    first = api.post(URL, VALID, headers=KEY)
    assert first.status_code == 201, first.content
    counts = (Report.objects.count(), Assignment.objects.count(), Event.objects.count())
    again = api.post(URL, VALID, headers=KEY)
    assert again.status_code == 201 and again["Idempotent-Replayed"] == "true"
    assert again.json()["number"] == first.json()["number"]
    assert (Report.objects.count(), Assignment.objects.count(), Event.objects.count()) == counts


def test_another_draft_is_another_report(api, city):
    one = api.post(URL, VALID, headers=KEY).json()["number"]
    other = api.post(URL, VALID, headers={"Idempotency-Key": "draft-another"}).json()["number"]
    assert one != other and Report.objects.count() == 2


def test_a_refused_draft_is_judged_again_when_corrected(api, city):
    refused = api.post(URL, {**VALID, "caller_phone": "12"}, headers=KEY)
    assert refused.status_code == 400 and not Report.objects.exists()
    accepted = api.post(URL, VALID, headers=KEY)
    assert accepted.status_code == 201 and Report.objects.count() == 1


def test_a_key_belongs_to_one_request(api, city):
    api.post(URL, VALID, headers=KEY)
    reused = api.post("/api/v1/calls/", {"caller_phone": "081234567890", "outcome": "prank"},
                      headers=KEY)  # fmt: skip
    assert reused.status_code == 400 and "Idempotency-Key" in reused.json()
    assert not Call.objects.filter(outcome="prank").exists()


def test_a_retried_call_is_logged_once(api, city):
    body = {"caller_phone": "081234567890", "outcome": "prank"}
    assert api.post("/api/v1/calls/", body, headers=KEY).status_code == 201
    assert api.post("/api/v1/calls/", body, headers=KEY).status_code == 201
    assert Call.objects.filter(outcome="prank").count() == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_sends_of_one_draft_at_once_make_one_report(operator, city):
    """The retry leaves while the first send is still running (both reach the server)."""
    barrier, answers = threading.Barrier(2, timeout=10), []

    def send():
        client = Client()
        client.force_login(operator)
        barrier.wait(timeout=10)
        try:
            answers.append(client.post(URL, VALID, content_type="application/json", headers=KEY))
        finally:
            connection.close()

    threads = [threading.Thread(target=send) for _ in range(2)]
    for thread in threads:
        thread.start()
    join_threads(threads)
    assert sorted(a.status_code for a in answers) == [201, 201]
    assert len({a.json()["number"] for a in answers}) == 1
    assert Report.objects.count() == 1
