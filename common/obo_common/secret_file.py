"""A secret made once and kept in a file, so every process that reads the file agrees.

Used for what a service generates at its first start when it is not configured: the web
app's session secret, the operator secret of the demo tools.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path


def load_or_create(path: Path) -> str:
    """The secret in ``path``; a new random one (mode 0600) if the file does not exist."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        # Written aside, then linked into place: two processes starting together agree on
        # whichever link landed first, and nobody ever reads a half-written file.
        draft = path.with_name(f".{path.name}.{os.getpid()}")
        with os.fdopen(os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as file:
            file.write(secrets.token_hex(32))
        try:
            os.link(draft, path)
        except FileExistsError:
            pass
        finally:
            draft.unlink()
    return path.read_text().strip()
