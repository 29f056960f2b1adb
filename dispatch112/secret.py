"""The embedded mode's secret key: generated on first run into the install's own folder, so a
small city's install never signs sessions with a key printed in public source."""

from __future__ import annotations

import contextlib
import os
import secrets
import tempfile
from pathlib import Path


def embedded_secret_key(path: Path) -> str:
    """The key stored at `path`, created (readable by its owner only) if there is none yet.
    Two processes starting at once agree: the first to create the file wins."""
    try:
        return _read(path)
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    # Written whole to a file of its own, then linked into place: a process starting at the
    # same moment finds either no key or a complete one, never half of one.
    descriptor, draft = tempfile.mkstemp(dir=path.parent, prefix=".secret_key.")
    try:
        with os.fdopen(descriptor, "w") as file:  # mkstemp: readable by its owner only
            file.write(secrets.token_urlsafe(50) + "\n")
        with contextlib.suppress(FileExistsError):  # another process was first
            os.link(draft, path)
    finally:
        os.unlink(draft)
    return _read(path)


def _read(path: Path) -> str:
    key = path.read_text().strip()
    if len(key) < 50:
        raise ValueError(f"{path} holds no usable secret key: delete it to have a new one made.")
    return key
