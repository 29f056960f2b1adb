import asyncio
import logging
import os

from django.core.management.base import BaseCommand, CommandError

from telephony.ami import CallTracker
from telephony.bridge import BridgeError, Poster, run


def _host_port(value: str) -> tuple[str, int]:
    host, sep, port = value.rpartition(":")
    if not sep:
        return value, 5038
    try:
        return host.strip("[]"), int(port)
    except ValueError:
        raise CommandError(f"--ami: not host:port: {value!r}") from None


class Command(BaseCommand):
    help = (
        "Bridges Asterisk's Manager Interface to the console: Newchannel / Newstate / Hangup "
        "of the emergency calls become ringing / answered / ended, posted to "
        "/api/v1/telephony/events/ with the phone system's token. The AMI login comes from "
        "AMI_USERNAME and AMI_SECRET, the token from DISPATCH_TELEPHONY_TOKEN (environment, "
        "so that no secret shows in the process list)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--ami", required=True, metavar="HOST:PORT", help="e.g. pbx:5038")
        parser.add_argument(
            "--url",
            default=os.environ.get("DISPATCH_URL", "http://127.0.0.1:8000"),
            help="Dispatch's address (default $DISPATCH_URL or http://127.0.0.1:8000).",
        )
        parser.add_argument(
            "--number",
            action="append",
            default=None,
            help="A dialled number that makes a call an emergency call (repeatable; default 112).",
        )
        parser.add_argument(
            "--context",
            action="append",
            default=[],
            help="A dialplan context whose every call is an emergency call (repeatable).",
        )
        parser.add_argument(
            "--once",
            action="store_true",
            help="Stop when the AMI connection closes and every event is delivered (a "
            "recorded session; a test). Without it the bridge runs until stopped and "
            "retries Dispatch forever.",
        )
        parser.add_argument("--timeout", type=float, default=120.0,
                            help="With --once: give up after this many seconds.")  # fmt: skip

    def handle(self, *args, ami, url, number, context, once, timeout, **options):
        host, port = _host_port(ami)
        username = os.environ.get("AMI_USERNAME", "")
        secret = os.environ.get("AMI_SECRET", "")
        token = os.environ.get("DISPATCH_TELEPHONY_TOKEN", "")
        missing = [name for name, value in (("AMI_USERNAME", username), ("AMI_SECRET", secret),
                   ("DISPATCH_TELEPHONY_TOKEN", token)) if not value]  # fmt: skip
        if missing:
            raise CommandError(f"Set {', '.join(missing)} in the environment.")
        if int(options.get("verbosity", 1)) > 0:
            logging.getLogger("telephony.bridge").setLevel(logging.INFO)
        tracker = CallTracker(
            numbers=frozenset(number if number is not None else ["112"]),
            contexts=frozenset(context),
        )
        bridge = run(
            host=host,
            port=port,
            username=username,
            secret=secret,
            poster=Poster(url, token),
            tracker=tracker,
            once=once,
        )
        try:
            result = asyncio.run(asyncio.wait_for(bridge, timeout) if once else bridge)
        except BridgeError as error:
            raise CommandError(str(error)) from None
        except TimeoutError:
            raise CommandError(f"Not finished within {timeout:.0f} s.") from None
        except KeyboardInterrupt:
            return
        self.stdout.write(
            f"Posted {result.posted} events ({result.repeated} repeats); "
            f"{len(result.dropped)} refused, {len(result.undelivered)} undelivered; "
            f"{tracker.open_calls} calls still open."
        )
        if result.dropped or result.undelivered:
            raise CommandError("Some events did not reach Dispatch: see the log above.")
