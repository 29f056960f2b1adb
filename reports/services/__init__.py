"""Every change to calls, reports, assignments and messages goes through these functions, one
module per job: intake (a call becomes a report), calls, closing, messages, assignments (the
state machine) and dispatching (a unit sent), with the operator's steering in
reports.steering. Each runs in one transaction, records what happened as Events, and has them
published live only after the transaction commits (reports.live). Callers import the public
names from here."""

from ..steering import assignment_add, assignment_cancel, report_edit
from .assignments import (
    ASSIGNMENT_ACTIONS,
    AssignmentAction,
    assignment_acknowledge,
    assignment_arrive,
    assignment_depart,
    assignment_reject,
    assignment_resolve,
    unit_set_status,
)
from .calls import call_log, call_set_caller_location
from .closing import report_close, report_hand_over
from .dispatching import assignment_dispatch
from .events import event_record, events_record
from .intake import report_create, report_receive
from .messages import handover_note_add, message_post

__all__ = [
    "ASSIGNMENT_ACTIONS",
    "AssignmentAction",
    "assignment_acknowledge",
    "assignment_add",
    "assignment_arrive",
    "assignment_cancel",
    "assignment_depart",
    "assignment_dispatch",
    "assignment_reject",
    "assignment_resolve",
    "call_log",
    "call_set_caller_location",
    "event_record",
    "events_record",
    "handover_note_add",
    "message_post",
    "report_close",
    "report_create",
    "report_edit",
    "report_hand_over",
    "report_receive",
    "unit_set_status",
]
