"""`make screenshots` next to a running `make up`: it takes every picture docs/workshop.md
shows, at the projector's 1280x720, so no picture in the docs is older than the code."""

from __future__ import annotations

import re
import struct

import browser_support
from conftest import ROOT

from workshop import screenshots

pytestmark = browser_support.needs_chromium
browser_support.require_browser()

WORKSHOP = ROOT / "docs" / "workshop.md"


def png_size(path) -> tuple[int, int]:
    header = path.read_bytes()[:24]
    assert header[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG"
    return struct.unpack(">II", header[16:24])


def test_every_picture_of_the_workshop_is_taken_from_the_running_demo(local_up, tmp_path):
    shown = set(re.findall(r"\]\(img/([a-z0-9-]+)\.png\)", WORKSHOP.read_text(encoding="utf-8")))
    assert shown == set(screenshots.PICTURES), "docs/workshop.md and workshop/screenshots.py name other pictures"

    done = local_up.script("workshop.screenshots", "--out", str(tmp_path), timeout=180)

    assert done.returncode == 0, done.stdout + done.stderr
    for name in screenshots.PICTURES:
        assert png_size(tmp_path / f"{name}.png") == (1280, 720), name
    for name in shown:
        assert (ROOT / "docs" / "img" / f"{name}.png").is_file(), f"docs/img/{name}.png is not committed"
