"""The key that signs CSRF tokens: from the settings, or made once and kept in the data folder,
so both gunicorn workers and the next start use the same one."""

from __future__ import annotations

from pathlib import Path

from obo_common import secret_file


def load_or_create(data_dir: Path, configured: str | None) -> str:
    if configured:
        return configured
    return secret_file.load_or_create(data_dir / "session-secret")
