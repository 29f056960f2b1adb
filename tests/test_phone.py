import pytest
from django.core.exceptions import ValidationError

from reports.phone import normalize_phone


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("081234567890", "+6281234567890"),
        ("0812-3456-7890", "+6281234567890"),
        ("0812 3456 7890", "+6281234567890"),
        ("6281234567890", "+6281234567890"),
        ("+6281234567890", "+6281234567890"),
        ("+62 812-3456-7890", "+6281234567890"),
        ("+62 (0)812 3456 7890", "+6281234567890"),
        ("006281234567890", "+6281234567890"),
        ("0812345678", "+62812345678"),  # 10-digit mobile (old 0812 numbers)
        ("024 8311 112", "+62248311112"),  # Semarang landline
        ("(024) 831-1112", "+62248311112"),
        ("021-5551234", "+62215551234"),  # Jakarta
        ("0274 512345", "+62274512345"),  # Yogyakarta
        ("+62 24 8311112", "+62248311112"),
        ("  081234567890  ", "+6281234567890"),
        # A tourist's or a roaming phone (issue 37 §3): any country, in E.164.
        ("+1 555 123 4567", "+15551234567"),
        ("+44 20 7946 0958", "+442079460958"),
        ("0061 2 9374 4000", "+61293744000"),
        ("+65-6123-4567", "+6561234567"),
    ],
)
def test_it_normalises(raw, expected):
    assert normalize_phone(raw) == expected


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("", "required"),
        ("   ", "required"),
        (None, "required"),
        ("81234567890", "prefix"),  # no leading 0 / 62
        ("112", "prefix"),
        ("+1 555", "invalid"),  # too short for a subscriber number
        ("+1234567890123456", "invalid"),  # E.164: 15 digits at most
        ("+0 555 123 4567", "invalid"),  # no country code starts with 0
        ("+1 555 123 456x", "characters"),
        ("0812-3456-789O", "characters"),  # letter O
        ("0812#34567890", "characters"),
        ("".join(chr(0xFF10 + int(d)) for d in "081234567890"), "prefix"),  # full-width
        ("0812345", "invalid"),  # mobile too short
        ("08123456789012", "invalid"),  # mobile too long
        ("024123", "invalid"),  # landline too short
        ("0112345678", "invalid"),  # no area code starts with 1
        ("0", "invalid"),
        ("+62", "invalid"),
    ],
)
def test_it_refuses_with_a_clear_message(raw, code):
    with pytest.raises(ValidationError) as raised:
        normalize_phone(raw)
    assert raised.value.code == code
    assert raised.value.messages[0]


def test_a_roaming_caller_is_logged_masked_and_known_again(make_report):
    """A tourist's phone (issue 37 §3): the report keeps the number in E.164, agencies see it
    masked like any other, and the next call from it, typed another way, finds its history."""
    from reports.privacy import mask_phone
    from reports.selectors import phone_history

    report = make_report(caller_phone="+1 (555) 123-4567")
    assert report.caller_phone == "+15551234567"
    masked = mask_phone(report.caller_phone)
    assert masked != report.caller_phone and masked.endswith("567") and "*" in masked
    assert phone_history(normalize_phone("001 555 123 4567"))["open_reports"] == [report]
