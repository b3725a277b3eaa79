"""docs/troubleshooting.md read by a program: one entry per case, with its parts.

The one parser of the guide, imported by all who read it: the web app's error pages quote
it (web_app/troubleshooting_cases.py), the terminal tools look answers up in it
(workshop/troubleshooting_guide.py) and the e2e suite checks the guide through it.

An entry is a heading ``### <a id="t12"></a>T12 <title>`` under the ``## `` section of its
tutorial step, then parts that each start with a bold name: ``**Cause:** ...``,
``**Fix:** ...``. An error page shows the first paragraph of the Cause and of the Fix.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

_HEADING = re.compile(r'^### <a id="(t\d\d)"></a>(T\d\d) (.+)$', re.M)
_PART = re.compile(r"^\*\*([\w ]+):\*\* ", re.M)


@dataclass(frozen=True)
class Entry:
    case: str  # "T17"
    title: str
    section: str  # "Step 3: Exchange the token"
    text: str  # from the heading to the next heading

    def part(self, name: str) -> str:
        """The text of the ``**name:**`` part, up to the next part; "" when there is none."""
        starts = list(_PART.finditer(self.text))
        for here, after in zip(starts, [*starts[1:], None], strict=True):
            if here.group(1) == name:
                return self.text[here.end() : after.start() if after else None].strip()
        return ""

    @property
    def cause(self) -> str:
        return _first_paragraph(self.part("Cause"))

    @property
    def fix(self) -> str:
        return _first_paragraph(self.part("Fix"))

    @property
    def reference(self) -> str:
        return f"{self.case} {self.title} (docs/troubleshooting.md#{self.case.lower()})"


def parse(text: str) -> list[Entry]:
    found, section = [], ""
    for block in re.split(r"^(?=##+ )", text, flags=re.M):
        if block.startswith("## "):
            section = block.splitlines()[0][3:].strip()
        match = _HEADING.match(block)
        if match:
            found.append(Entry(match.group(2), match.group(3).strip(), section, block))
    return found


def entries(guide: Path) -> list[Entry]:
    """The guide's entries; none when the file is missing or cannot be read."""
    try:
        return list(_read(str(guide), guide.stat().st_mtime_ns))
    except (OSError, UnicodeDecodeError):
        return []


def by_case(guide: Path) -> dict[str, Entry]:
    return {entry.case: entry for entry in entries(guide)}


@lru_cache(maxsize=4)
def _read(path: str, modified: int) -> tuple[Entry, ...]:
    # Keyed on the modification time: an edited guide is read again, without a restart.
    return tuple(parse(Path(path).read_text(encoding="utf-8")))


def _first_paragraph(text: str) -> str:
    return " ".join(text.split("\n\n", 1)[0].split())
