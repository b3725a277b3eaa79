"""The key that signs CSRF tokens: from the settings, or made once and kept in the data folder,
so both gunicorn workers and the next start use the same one."""

from __future__ import annotations

import os
import secrets
from pathlib import Path


def load_or_create(data_dir: Path, configured: str | None) -> str:
    if configured:
        return configured
    data_dir.mkdir(parents=True, exist_ok=True)
    path = data_dir / "session-secret"
    if not path.exists():
        # Written aside, then linked into place: two processes starting together agree on
        # whichever link landed first, and nobody ever reads a half-written file.
        draft = data_dir / f".session-secret.{os.getpid()}"
        with os.fdopen(os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as file:
            file.write(secrets.token_hex(32))
        try:
            os.link(draft, path)
        except FileExistsError:
            pass
        finally:
            draft.unlink()
    return path.read_text().strip()
