"""Signals the apps above reports/ listen to (they depend on reports, not the other way)."""

from django.dispatch import Signal

# A call was logged (reports.services.report_create / call_log), inside its transaction:
# `call` (reports.models.Call). The telephony app matches the caller's AML position and the
# PBX call to it (SPEC §9).
call_logged = Signal()
