"""This server's VAPID key (RFC 8292) for Web Push (notifications.webpush): configured, or
made once into the install's own folder in the embedded mode, as its secret key is."""

from __future__ import annotations

import base64
import binascii
import contextlib
import logging
import os
import tempfile
import threading
from pathlib import Path
from typing import TYPE_CHECKING

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

if TYPE_CHECKING:
    from py_vapid import Vapid

logger = logging.getLogger(__name__)

KEY_FILE = "vapid_private.pem"

_key_lock = threading.Lock()
_key: tuple[str, Vapid] | None = None  # (where it came from, the key)


def vapid() -> Vapid:
    """This server's VAPID key: WEBPUSH_VAPID_PRIVATE_KEY (a PEM text, the path of a PEM file,
    or base64url of the raw or DER key), else VAR_DIR/vapid_private.pem, made on first use.
    Raises ImproperlyConfigured when the configured key is not a P-256 private key."""
    global _key
    configured = settings.WEBPUSH_VAPID_PRIVATE_KEY.strip()
    source = configured or str(Path(settings.VAR_DIR) / KEY_FILE)
    held = _key
    if held is not None and held[0] == source:
        return held[1]
    with _key_lock:
        key = _configured_key(configured) if configured else _generated_key(Path(source))
        _key = (source, key)
    return key


def application_server_key() -> str:
    """The public half, as browsers take it (`applicationServerKey`): base64url of the
    uncompressed P-256 point."""
    point = vapid().public_key.public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    return _b64url(point)


def _configured_key(text: str) -> Vapid:
    from py_vapid import Vapid

    text = text.replace("\\n", "\n")  # a PEM given in one line of an environment file
    try:
        if "-----BEGIN" in text:
            return _p256(serialization.load_pem_private_key(text.encode(), password=None))
        if _is_file(text):
            return _p256(serialization.load_pem_private_key(Path(text).read_bytes(), None))
        return _p256(Vapid.from_string(text).private_key)
    except (ValueError, TypeError, binascii.Error) as error:
        raise ImproperlyConfigured(
            f"WEBPUSH_VAPID_PRIVATE_KEY is not a P-256 private key: {error}"
        ) from error


def _is_file(text: str) -> bool:
    try:
        return Path(text).is_file()
    except OSError:  # a key's text too long to be a file name
        return False


def _p256(key) -> Vapid:
    from py_vapid import Vapid

    if not isinstance(key, ec.EllipticCurvePrivateKey) or key.curve.name != "secp256r1":
        raise ValueError("VAPID needs an EC key on the P-256 curve")
    return Vapid(key)


def _generated_key(path: Path) -> Vapid:
    """The key stored at `path`, created (readable by its owner only) if there is none yet.
    Two processes starting at once agree: the first to link its file in place wins."""
    if not path.exists():
        if not settings.EMBEDDED:
            logger.warning(
                "No WEBPUSH_VAPID_PRIVATE_KEY: generating one into %s. Set it when more than "
                "one host sends Web Push (each would make its own).",
                path,
            )
        path.parent.mkdir(parents=True, exist_ok=True)
        pem = ec.generate_private_key(ec.SECP256R1()).private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        # Written whole to a file of its own, then linked into place: a process starting at
        # the same moment finds either no key or a complete one (dispatch112/secret.py).
        descriptor, draft = tempfile.mkstemp(dir=path.parent, prefix=".vapid.")
        try:
            with os.fdopen(descriptor, "wb") as file:
                file.write(pem)
            with contextlib.suppress(FileExistsError):  # another process was first
                os.link(draft, path)
        finally:
            os.unlink(draft)
    return _configured_key(str(path))


def _b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()
