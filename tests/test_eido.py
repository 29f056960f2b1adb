"""EIDO between 112 centres (SPEC §10, issue 19 §1, issue 38): a report's EIDO
(NENA-STA-021.1b JSON, validated against interop/schemas/eido.schema.json; against NENA's own
files in test_eido_nena), the import of a peer's EIDO as a routed
report with its origin kept, and the handover that closes a report here as handed_over with
the peer's number — end to end between two running instances on two databases."""

from __future__ import annotations

import copy
import json
import os
import re
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from django.contrib.auth.models import Group, User
from django.core.exceptions import ValidationError
from django.test import Client
from django.utils import timezone
from rest_framework.authtoken.models import Token

from interop import eido
from interop.models import Handover, PeerCentre, ReceivedIncident
from reports import retention, services
from reports.models import CloseReason, Report, ReportSource, ReportStatus

from .servers import REPO_ROOT, Server, free_port, wait_healthy

PHONE = "+6281234567890"


@pytest.fixture
def peer(city):
    return PeerCentre.objects.create(
        name="112 Kabupaten Kendal", code="kendal", url="http://127.0.0.1:9", token="to-kendal"
    )


def eido_client(peer) -> Client:
    return Client(HTTP_AUTHORIZATION=f"Token {peer.inbound_token}")


def post_eido(client: Client, document):
    return client.post("/api/v1/eido/", json.dumps(document), content_type="application/json")


@pytest.fixture
def full_report(make_report, staff_of, unit_of, operator):
    """A traffic jam with a unit dispatched, a rejection and a chat line."""
    report = make_report(
        caller_phone=PHONE, caller_name="Budi Santoso", latitude=-6.9825, longitude=110.4093,
        priority=2,
    )  # fmt: skip
    dishub, polrestabes = staff_of("dishub"), staff_of("polrestabes")
    unit_of("dishub", "DSH-01")
    assignment = report.assignments.get(agency__code="dishub")
    services.assignment_acknowledge(assignment=assignment, actor=dishub)
    services.assignment_dispatch(assignment=assignment, actor=dishub, unit="DSH-01", eta_minutes=6)
    services.assignment_reject(
        assignment=report.assignments.get(agency__code="polrestabes"),
        actor=polrestabes,
        reason="Bukan wewenang",
    )
    services.message_post(author=dishub, report=report, body="Unit meluncur lewat Jl. Pemuda")
    return report


# --- Export --------------------------------------------------------------------------------------


def test_export_is_a_valid_eido_with_everything_on_the_report(full_report, supervisor):
    client = Client()
    client.force_login(supervisor)
    response = client.get(f"/api/v1/reports/{full_report.pk}/eido/")
    assert response.status_code == 200
    document = response.json()
    eido.validate(document)  # raises with every problem
    assert document["eidoVersion"] == "1.0"
    assert document["issuingElementIdentification"] == "urn:dispatch112:semarang"
    incident = document["incidentComponent"]
    assert incident["internalIncidentId"] == full_report.number
    assert incident["incidentTypeInternalCode"] == "kemacetan"
    assert incident["incidentStatusInternalText"] == ["Open"]
    assert incident["incidentPriorityInternalText"] == "2"
    index = {c["$id"]: c for v in document.values() if isinstance(v, list) for c in v}
    (call,) = document["callComponent"]
    assert index[call["callBackReference"]["$ref"]]["callBackInformationUri"] == [f"tel:{PHONE}"]
    person = index[call["personReference"][0]["$ref"]]
    assert person["personIncidentRoleRegistryText"] == ["Caller"]
    assert person["ncPersonComponent"]["name"][0]["personFullName"][0]["value"] == "Budi Santoso"
    statuses = {a["x-dispatch112"]["code"]: a["x-dispatch112"]["status"]
                for a in document["agencyComponent"] if "x-dispatch112" in a}  # fmt: skip
    assert statuses == {"dishub": "dispatched", "polrestabes": "rejected"}
    (unit,) = document["emergencyResourceComponent"]
    assert unit["emergencyResourceName"] == "DSH-01"
    assert unit["unitStatusInternal"] == ["dispatched"]
    assert [n["notesActionComments"] for n in document["notesComponent"]] == [
        full_report.description,
        "Unit meluncur lewat Jl. Pemuda",
    ]
    place = eido.read_pidf_lo(document["locationComponent"][0]["locationByValue"])
    assert (place["latitude"], place["longitude"]) == (-6.9825, 110.4093)
    assert place["address"] == "Jl. Pahlawan"


def test_every_reference_points_at_a_component(full_report):
    document = eido.export(full_report)
    ids = {c["$id"] for key, value in document.items() if key.endswith("Component")
           for c in (value if isinstance(value, list) else [value])}  # fmt: skip
    refs = set()

    def walk(value):
        if isinstance(value, dict):
            if set(value) == {"$ref"}:
                refs.add(value["$ref"])
            for item in value.values():
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)

    walk(document)
    assert refs and refs <= ids, refs - ids


# --- Import --------------------------------------------------------------------------------------


def test_a_peers_eido_becomes_a_routed_report_with_its_origin(full_report, peer):
    document = eido.export(full_report)
    document["incidentComponent"]["internalIncidentId"] = "KDL-20261204-0007"
    response = post_eido(eido_client(peer), document)
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["created"] is True
    report = Report.objects.get(number=body["number"])
    assert report.pk != full_report.pk
    assert report.source == ReportSource.EIDO
    assert report.origin == "112 Kabupaten Kendal: KDL-20261204-0007"
    assert report.operator == peer.account and not peer.account.is_active
    assert report.category.code == "kemacetan" and report.priority == 2
    assert sorted(a.agency.code for a in report.assignments.all()) == ["dishub", "polrestabes"]
    assert report.caller_phone == PHONE and report.caller_name == "Budi Santoso"
    assert (float(report.latitude), float(report.longitude)) == (-6.9825, 110.4093)
    assert report.received_at == full_report.received_at.replace(microsecond=0)  # the clock
    assert "Unit meluncur lewat Jl. Pemuda" in report.description  # the peer's notes
    kept = ReceivedIncident.objects.get(report=report)
    assert kept.peer == peer and kept.document == document


def test_the_same_incident_twice_gives_the_same_report(full_report, peer):
    document = eido.export(full_report)
    first = post_eido(eido_client(peer), document)
    later = {**document, "lastUpdateTimeStamp": "2026-12-06T10:00:00+07:00"}  # a retry
    again = post_eido(eido_client(peer), later)
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json() == {**first.json(), "created": False}
    assert Report.objects.filter(source=ReportSource.EIDO).count() == 1


def test_an_eido_from_another_cad_is_mapped_by_its_texts(full_report, peer):
    document = eido.export(full_report)
    incident = document["incidentComponent"]
    del incident["incidentTypeInternalCode"], incident["incidentPriorityInternalText"]
    incident["incidentTypeInternalText"] = "Kebakaran"  # our category's name
    report = Report.objects.get(number=post_eido(eido_client(peer), document).json()["number"])
    assert report.category.code == "kebakaran" and report.priority == 1  # its default
    assert [a.agency.code for a in report.assignments.all()] == ["damkar"]

    document["$id"] = "urn:emergency:uid:incidentid:OTHER-1:kendal"
    incident["incidentTypeInternalText"] = "Hazmat Spill"
    incident["incidentTypeCommonRegistryText"] = "HAZMAT"
    report = Report.objects.get(number=post_eido(eido_client(peer), document).json()["number"])
    assert report.category.code == "lainnya"  # the operator re-routes it if need be
    assert "[Hazmat Spill / HAZMAT]" in report.description
    # …to the agencies the peer had on it that exist here (Polrestabes had rejected it)
    assert [a.agency.code for a in report.assignments.all()] == ["dishub"]

    document["$id"] = "urn:emergency:uid:incidentid:OTHER-2:kendal"
    document["agencyComponent"] = document["agencyComponent"][:1]  # only the sending centre
    response = post_eido(eido_client(peer), document)
    # None of its agencies is ours: taken all the same, routed to nobody yet — the operator
    # adds the agencies (issue 38: a call is never refused for want of a route).
    assert response.status_code == 201, response.content
    report = Report.objects.get(number=response.json()["number"])
    assert report.category.code == "lainnya" and not report.assignments.exists()


@pytest.mark.parametrize(
    ("change", "path"),
    [
        (lambda d: d.pop("agencyComponent"), "/"),
        (lambda d: d["incidentComponent"].pop("incidentTypeCommonRegistryText"),
         "/incidentComponent"),
        (lambda d: d["callComponent"][0].update(direction="maybe"), "/callComponent/0/direction"),
        (lambda d: d.update(eidoVersion="0.9"), "/eidoVersion"),
        (lambda d: d.update(lastUpdateTimeStamp=7), "/lastUpdateTimeStamp"),
        (lambda d: d["callComponent"][0].update(callStartTimestamp="yesterday"),
         "/callComponent/0/callStartTimestamp"),
        (lambda d: d["locationComponent"][0].update(locationByValue="<not xml"),
         "/locationComponent/0/locationByValue"),
        (lambda d: d["locationComponent"][0].update(locationByValue=(
            '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>'
            "<presence>&e;</presence>")), "/locationComponent/0/locationByValue"),
    ],
)  # fmt: skip
def test_an_invalid_eido_is_refused_with_where(full_report, peer, change, path):
    document = copy.deepcopy(eido.export(full_report))
    change(document)
    response = post_eido(eido_client(peer), document)
    assert response.status_code == 400, response.content
    body = response.json()
    assert path in [p["path"] for p in body["errors"]], body
    assert not Report.objects.filter(source=ReportSource.EIDO).exists()


def test_bad_fields_of_a_valid_eido_are_a_400(full_report, peer):
    document = eido.export(full_report)
    document["incidentComponent"]["incidentPriorityInternalText"] = "1"
    location = document["locationComponent"][0]
    location["locationByValue"] = re.sub(
        r"<gml:pos>[^<]*", "<gml:pos>-96.98 110.4", location["locationByValue"]
    )  # a latitude that cannot be
    response = post_eido(eido_client(peer), document)
    assert response.status_code == 400
    assert "latitude" in response.json()


@pytest.mark.parametrize(
    ("header", "status"),
    [(None, 401), ("Token nope", 401), ("Token a b", 401), ("Bearer x", 401)],
)
def test_only_a_peer_token_may_import(full_report, peer, operator, header, status):
    client = Client(**({"HTTP_AUTHORIZATION": header} if header else {}))
    client.force_login(operator)  # a session is not a peer centre
    assert post_eido(client, eido.export(full_report)).status_code == status


def test_a_withdrawn_peer_cannot_import(full_report, peer):
    peer.active = False
    peer.save()
    assert post_eido(eido_client(peer), eido.export(full_report)).status_code == 401


def test_an_operators_api_token_is_not_a_peer_token(full_report, peer, operator):
    key = Token.objects.create(user=operator).key
    client = Client(HTTP_AUTHORIZATION=f"Token {key}")
    assert post_eido(client, eido.export(full_report)).status_code == 401


def test_retention_erases_the_eido_received(full_report, peer, operator):
    number = post_eido(eido_client(peer), eido.export(full_report)).json()["number"]
    report = Report.objects.get(number=number)
    services.report_close(actor=operator, report=report, reason="resolved")
    result = retention.anonymise_callers(now=timezone.now() + timedelta(days=800))
    kept = ReceivedIncident.objects.get(report=report)
    assert kept.document == {} and kept.anonymised_at is not None
    assert result.others["EIDO received"] == 1


# --- Handover, in one instance --------------------------------------------------------------------


def test_handover_to_an_unknown_centre_is_a_400(full_report, operator):
    client = Client()
    client.force_login(operator)
    response = client.post(f"/api/v1/reports/{full_report.pk}/handover/", {"centre": "mars"},
                           content_type="application/json")  # fmt: skip
    assert response.status_code == 400 and "centre" in response.json()


def test_a_report_cannot_be_closed_as_handed_over_by_hand(full_report, operator):
    client = Client()
    client.force_login(operator)
    response = client.post(f"/api/v1/reports/{full_report.pk}/close/", {"reason": "handed_over"},
                           content_type="application/json")  # fmt: skip
    assert response.status_code == 400
    with pytest.raises(ValidationError, match="Serahkan"):
        services.report_close(actor=operator, report=full_report, reason="handed_over")
    full_report.refresh_from_db()
    assert full_report.status == ReportStatus.OPEN


class ClosingPeer:
    """A peer that takes the report, but only after a colleague here has closed it (the
    operator waited on a slow peer while someone else closed the report as resolved)."""

    def __init__(self, report: Report, colleague):
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                self.rfile.read(int(self.headers["Content-Length"]))
                services.report_close(actor=colleague, report=report, reason="resolved")
                outer.asked += 1
                body = json.dumps({"number": "KDL-20261205-0007", "created": True}).encode()
                self.send_response(201)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.asked = 0
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.mark.django_db(transaction=True)
def test_a_report_closed_here_while_the_peer_answered_is_told(full_report, operator):
    colleague = User.objects.create_user("operator2", password="x")
    colleague.groups.add(Group.objects.get(name="operator"))
    peer = ClosingPeer(full_report, colleague)
    try:
        PeerCentre.objects.create(name="112 Kabupaten Kendal", code="kendal", url=peer.url,
                                  token="to-kendal")  # fmt: skip
        client = Client()
        client.force_login(operator)
        response = client.post(f"/api/v1/reports/{full_report.pk}/handover/",
                               {"centre": "kendal"}, content_type="application/json")  # fmt: skip
    finally:
        peer.close()
    assert peer.asked == 1
    assert response.status_code == 409, response.content
    detail = response.json()["detail"]
    assert "KDL-20261205-0007" in detail and "sudah ditutup di sini" in detail, detail
    full_report.refresh_from_db()
    assert full_report.close_reason == CloseReason.RESOLVED  # the colleague's close stands
    attempt = Handover.objects.get(report=full_report)
    assert (attempt.outcome, attempt.peer_number) == ("accepted", "KDL-20261205-0007")
    assert attempt.error  # why it did not close the report here


# --- Handover between two running instances -------------------------------------------------------

TOKEN_FOR_A = "kendal-gave-semarang-this-token-0123456789"
PREPARE = """
import django, os
os.environ["DJANGO_SETTINGS_MODULE"] = "dispatch112.settings"
django.setup()
"""
SETUP = """
from django.contrib.auth.models import Group, User
from rest_framework.authtoken.models import Token
from agencies.seed import seed_configuration
from interop.models import PeerCentre
seed_configuration()
user = User.objects.create_user("op", password="x")
user.groups.add(Group.objects.get_or_create(name="operator")[0])
Token.objects.create(user=user, key={key!r})
for peer in {peers!r}:
    PeerCentre.objects.create(**peer)
"""


class Instance:
    """A Dispatch 112 of its own: its own SQLite database (embedded mode), served by Daphne."""

    def __init__(self, name: str, tmp_path, *, prefix: str, centre_id: str, key: str, peers):
        self.name, self.key, self.port = name, key, free_port()
        var = tmp_path / name
        var.mkdir()
        self.env = {
            k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")
        } | {
            "VAR_DIR": str(var),
            "ENV_FILE": "/nonexistent",
            "SECRET_KEY": f"secret-of-{name}",
            "DISPATCH_REPORT_PREFIX": prefix,
            "DISPATCH_CENTRE_ID": centre_id,
            "DISPATCH_HANDOVER_TIMEOUT_SECONDS": "2",
            "SECURE_SSL_REDIRECT": "false",
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "API_RATE_LIMIT_BURST": "none",
            "API_RATE_LIMIT_SUSTAINED": "none",
        }
        self.peers = peers

    def prepare(self, migrated_sqlite) -> subprocess.Popen:
        """Gives it a migrated database and configures it (SETUP), in a process of its own."""
        migrated_sqlite(Path(self.env["VAR_DIR"]) / "dispatch112.sqlite3")
        script = PREPARE + SETUP.format(key=self.key, peers=self.peers)
        return subprocess.Popen(
            [sys.executable, "-c", script], cwd=REPO_ROOT, env=self.env,
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        )  # fmt: skip

    def serve(self) -> Server:
        self.server = Server(self.name, self.port, self.env)
        return self.server

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def call(self, method: str, path: str, body=None) -> tuple[int, dict]:
        request = urllib.request.Request(
            self.url + path,
            data=json.dumps(body).encode() if body is not None else None,
            method=method,
            headers={"Authorization": f"Token {self.key}", "Content-Type": "application/json"},
        )
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        try:
            with opener.open(request, timeout=15) as response:
                return response.status, json.loads(response.read())
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read() or b"{}")


class Silent:
    """A peer that accepts the connection and never answers (a centre whose server hangs)."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(5)
        self.port = self.sock.getsockname()[1]
        self.held: list[socket.socket] = []
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self):
        while True:
            try:
                connection, _ = self.sock.accept()
            except OSError:
                return
            self.held.append(connection)

    def close(self):
        self.sock.close()
        for connection in self.held:
            connection.close()


@pytest.fixture(scope="module")
def two_centres(tmp_path_factory, migrated_sqlite):
    """Semarang (A) and Kendal (B), each configured with the other as its peer, plus peers on
    A that cannot take a report: one with nothing listening, one with a wrong token, one that
    never answers."""
    tmp = tmp_path_factory.mktemp("centres")
    silent = Silent()
    dead_port = free_port()  # nothing listens there
    a = Instance("semarang", tmp, prefix="SMG", centre_id="urn:dispatch112:semarang",
                 key="a" * 40, peers=[])  # fmt: skip
    b = Instance("kendal", tmp, prefix="KDL", centre_id="urn:dispatch112:kendal",
                 key="b" * 40, peers=[])  # fmt: skip
    a.peers = [
        {"name": "112 Kabupaten Kendal", "code": "kendal", "url": b.url, "token": TOKEN_FOR_A},
        {"name": "112 Kota Salah", "code": "salah", "url": b.url, "token": "wrong"},
        {"name": "112 Mati", "code": "mati", "url": f"http://127.0.0.1:{dead_port}", "token": "x"},
        {"name": "112 Hening", "code": "hening", "url": f"http://127.0.0.1:{silent.port}",
         "token": "x"},
    ]  # fmt: skip
    b.peers = [
        {"name": "112 Kota Semarang", "code": "semarang", "url": a.url, "token": "unused",
         "inbound_token": TOKEN_FOR_A},
    ]  # fmt: skip
    preparing = [(i, i.prepare(migrated_sqlite)) for i in (a, b)]
    for instance, process in preparing:
        output, _ = process.communicate(timeout=90)
        assert process.returncode == 0, f"{instance.name}: {output.decode(errors='replace')}"
    servers = [a.serve(), b.serve()]
    try:
        wait_healthy(*servers, deadline=30)
        yield a, b
    finally:
        for server in servers:
            server.stop()
        silent.close()


def new_report(centre: Instance) -> dict:
    status, report = centre.call("POST", "/api/v1/reports/", {
        "caller_phone": "081234567890", "caller_name": "Budi", "category": "kecelakaan",
        "description": "Tabrakan beruntun, dua korban", "address": "Jl. Raya Kaliwungu km 2",
        "latitude": -6.9602, "longitude": 110.2591,
    })  # fmt: skip
    assert status == 201, report
    return report


# Both use the module's two running centres: on one worker, they start once (make test).
TWO_CENTRES = pytest.mark.xdist_group("eido_two_centres")


@TWO_CENTRES
@pytest.mark.timeout(120)
def test_a_report_handed_over_arrives_routed_on_the_other_centre(two_centres):
    a, b = two_centres
    report = new_report(a)
    status, _ = a.call("POST", f"/api/v1/reports/{report['id']}/messages/",
                       {"body": "Korban terjepit, perlu alat berat"})  # fmt: skip
    assert status == 201
    status, result = a.call("POST", f"/api/v1/reports/{report['id']}/handover/",
                            {"centre": "kendal"})  # fmt: skip
    assert status == 200, result
    assert result["report"] == report["number"] and result["peer_number"].startswith("KDL-")

    status, here = a.call("GET", f"/api/v1/reports/{report['id']}/")
    assert here["status"] == "closed" and here["close_reason"] == CloseReason.HANDED_OVER
    assert result["peer_number"] in here["close_note"] and "Kendal" in here["close_note"]
    assert all(x["status"] == "cancelled" for x in here["assignments"])

    status, listing = b.call("GET", "/api/v1/reports/")
    there = next(r for r in listing["results"] if r["number"] == result["peer_number"])
    assert there["status"] == "open"
    assert there["source"] == "eido"
    assert there["origin"] == f"112 Kota Semarang: {report['number']}"
    assert there["category"] == "kecelakaan" and there["priority"] == 1
    assert sorted(x["agency"] for x in there["assignments"]) == sorted(
        ["polrestabes", "ambulans", "dishub"]
    )  # routed by Kendal's own routing
    assert all(x["status"] == "notified" for x in there["assignments"])
    assert "Korban terjepit, perlu alat berat" in there["description"]  # A's chat, as notes
    assert there["caller_phone"] == "+6281234567890"
    assert (float(there["latitude"]), float(there["longitude"])) == (-6.9602, 110.2591)
    assert there["received_at"][:19] == report["received_at"][:19]  # the caller's clock

    status, again = a.call("POST", f"/api/v1/reports/{report['id']}/handover/",
                           {"centre": "kendal"})  # fmt: skip
    assert status == 409, again  # closed here: not sent twice


@TWO_CENTRES
@pytest.mark.timeout(120)
@pytest.mark.parametrize(
    ("centre", "says"),
    [
        ("mati", "tidak dapat dihubungi (tidak ada yang menjawab di alamatnya)"),  # nothing there
        ("salah", "token kita ditolak (HTTP 401)"),  # the peer refuses our token
        ("hening", "tidak dapat dihubungi (tidak menjawab dalam 2 detik)"),  # it never answers
    ],
)
def test_a_peer_that_cannot_take_it_leaves_the_report_open(two_centres, centre, says):
    a, b = two_centres
    report = new_report(a)
    started = time.monotonic()
    status, result = a.call("POST", f"/api/v1/reports/{report['id']}/handover/",
                            {"centre": centre})  # fmt: skip
    assert status == 502, result
    assert result["code"] == "handover_failed" and says in result["detail"], result
    assert "Laporan tetap terbuka di sini" in result["detail"] or "token" in result["detail"]
    assert time.monotonic() - started < 10  # DISPATCH_HANDOVER_TIMEOUT_SECONDS is 2 here
    status, here = a.call("GET", f"/api/v1/reports/{report['id']}/")
    assert here["status"] == "open" and here["close_reason"] == ""
    assert all(x["status"] == "notified" for x in here["assignments"])
    status, listing = b.call("GET", "/api/v1/reports/")
    assert report["number"] not in json.dumps(listing)  # nothing arrived there
