"""The AML parser (ETSI TS 103 625, SPEC §9): both formats, valid and malformed messages."""

from datetime import UTC, datetime

import pytest

from telephony.aml import AmlError, parse_https, parse_sms


def sms(body: str) -> str:
    """An SMS text with its `ml` (the whole message's length, the field itself included)."""
    head = 'A"ML=1;' + body + ";ml="
    for digits in (2, 3):
        length = len(head) + digits
        if len(str(length)) == digits:
            return head + str(length)
    raise AssertionError


# The layout of the standard's examples (a GNSS fix in central London, a Wi-Fi fix, a cell-id
# one, and the no-fix form), with a Semarang position and Indonesian identities.
GNSS = sms(
    "lt=-6.98322;lg=+110.40936;rd=8;top=20261204031522;lc=68;pm=G;"
    "si=510101234567890;ei=356708041746734;mcc=510;mnc=10"
)


def test_a_gnss_fix():
    reading = parse_sms(GNSS, sender="+6281234567890")
    assert (reading.latitude, reading.longitude, reading.accuracy_m) == (-6.98322, 110.40936, 8)
    assert reading.positioning == "gnss" and reading.confidence_pct == 68
    assert reading.located_at == datetime(2026, 12, 4, 3, 15, 22, tzinfo=UTC)
    assert (reading.imsi, reading.imei, reading.mcc, reading.mnc) == (
        "510101234567890", "356708041746734", "510", "10",
    )  # fmt: skip
    assert reading.caller_phone == "+6281234567890" and reading.has_fix


@pytest.mark.parametrize(("method", "expected"), [("W", "wifi"), ("C", "cell")])
def test_wifi_and_cell_fixes(method, expected):
    text = sms(f"lt=-6.99;lg=110.42;rd=1500;top=20261204031522;lc=90;pm={method};mcc=510;mnc=10")
    reading = parse_sms(text)
    assert reading.positioning == expected and reading.accuracy_m == 1500


@pytest.mark.parametrize(
    "body",
    [
        "lt=;lg=;rd=N;top=20261204031522;lc=;pm=N;si=510101234567890;ei=356708041746734;mcc=510;mnc=10",
        "lt=;lg=;rd=N;top=20261204031522;mcc=510;mnc=10",
    ],
)
def test_a_no_fix_message_has_no_position(body):
    reading = parse_sms(sms(body))
    assert not reading.has_fix and reading.latitude is None and reading.accuracy_m is None


def test_unknown_fields_are_ignored():
    assert parse_sms(sms("lt=-6.99;lg=110.42;rd=10;pm=G;xx=new")).has_fix


@pytest.mark.parametrize(
    ("text", "field"),
    [
        (GNSS[:-3] + "999", "ml"),  # wrong length
        (GNSS[: GNSS.index(";ml=")], "ml"),  # no ml
        (
            GNSS[: GNSS.index(";lc=")] + GNSS[GNSS.index(";ml=") :],
            "ml",
        ),  # a field lost: ml no longer matches
        (sms("lt=-6.99;lg=110.42;rd=10;pm=X"), "pm"),  # unknown positioning method
        (sms("lt=-96.99;lg=110.42;rd=10;pm=G"), "lt"),  # latitude out of range
        (sms("lt=-6.99;lg=190.42;rd=10;pm=G"), "lg"),  # longitude out of range
        (sms("lt=-6.99;lg=110.42;rd=10;top=2026-12-04;pm=G"), "top"),  # bad time of position
        (sms("lt=-6.99;lg=110.42;rd=10;top=20261304031522;pm=G"), "top"),  # month 13
        (sms("lt=-6.99;lg=110.42;rd=10;lc=high;pm=G"), "lc"),  # lc not an integer
        (sms("lt=-6.99;lg=110.42;rd=10;lc=150;pm=G"), "lc"),
        (sms("lt=-6.99;lg=110.42;rd=ten;pm=G"), "rd"),
        (sms("lt=-6.99;rd=10;pm=G"), "lg"),  # one coordinate
        (sms("lt=abc;lg=110.42;rd=10;pm=G"), "lt"),
        (sms("lt=-6.99;lg=110.42;lt=-6.98;pm=G"), "lt"),  # twice
        (sms("lt=-6.99;lg=110.42;ei=35670804174673X"), "ei"),
        ("AML=1;lt=-6.99;lg=110.42;ml=28", "sms"),  # not the header
        ("", "sms"),
    ],
)
def test_malformed_sms_names_the_field(text, field):
    with pytest.raises(AmlError) as raised:
        parse_sms(text)
    assert raised.value.field == field


HTTPS_FORM = {
    "v": "3",
    "emergency_number": "112",
    "source": "phone",
    "time": "1796354122000",
    "location_latitude": "-6.98322",
    "location_longitude": "110.40936",
    "location_time": "1796354120500",
    "location_accuracy": "12.5",
    "location_source": "GPS",
    "location_certainty": "68",
    "location_altitude": "12.0",
    "device_number": "6281234567890",
    "device_imei": "356708041746734",
    "device_imsi": "510101234567890",
    "device_model": "Pixel 7",
    "cell_network_mcc": "510",
    "cell_network_mnc": "10",
}


def test_the_https_form():
    reading = parse_https(HTTPS_FORM)
    assert (reading.latitude, reading.longitude, reading.accuracy_m) == (-6.98322, 110.40936, 12.5)
    assert reading.positioning == "gnss" and reading.confidence_pct == 68
    assert reading.located_at == datetime.fromtimestamp(1796354120.5, tz=UTC)
    assert reading.caller_phone == "6281234567890" and reading.mcc == "510"


def test_every_https_field_is_optional():
    reading = parse_https({"v": "3"})
    assert not reading.has_fix and reading.caller_phone == ""
    with pytest.raises(AmlError):
        parse_https({"colour": "blue"})  # nothing of AML in it
    assert parse_https({"location_confidence": "0.68", "location_latitude": "-7",
                        "location_longitude": "110"}).confidence_pct == 68  # fmt: skip


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"location_latitude": "-91"}, "location_latitude"),
        ({"location_latitude": "south"}, "location_latitude"),
        ({"location_longitude": ""}, "location_longitude"),
        ({"location_longitude": "nan"}, "location_longitude"),
        ({"location_accuracy": "-3"}, "location_accuracy"),
        ({"location_source": "Magic"}, "location_source"),
        ({"location_certainty": "250"}, "location_certainty"),
        ({"location_time": "yesterday"}, "location_time"),
        ({"location_time": "2026-12-04T10:00:00"}, "location_time"),  # no zone
        ({"device_imei": "35-67"}, "device_imei"),
    ],
)
def test_malformed_https_names_the_field(changes, field):
    with pytest.raises(AmlError) as raised:
        parse_https({**HTTPS_FORM, **changes})
    assert raised.value.field == field
