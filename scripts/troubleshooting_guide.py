"""docs/troubleshooting.md read by a program: which entry an error is likely to be.

Each entry quotes the ``error`` and ``error_description`` (or the Source API's title) that
its case produces, under the section of its tutorial step. Looking an answer's words up
there, within the step that failed, keeps the terminal tools in step with the guide
without a second table of cases.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

GUIDE = Path(__file__).resolve().parent.parent / "docs" / "troubleshooting.md"
_HEADING = re.compile(r'^### <a id="(t\d\d)"></a>(T\d\d) (.+)$', re.M)
OUTAGES = {"identity provider": "T32", "Target API": "T31"}  # who could not be reached -> case


@dataclass(frozen=True)
class Entry:
    case: str  # "T17"
    title: str
    section: str  # "Step 3: Exchange the token"
    text: str

    @property
    def reference(self) -> str:
        return f"{self.case} {self.title} (docs/troubleshooting.md#{self.case.lower()})"


def entries(guide: Path = GUIDE) -> list[Entry]:
    if not guide.is_file():
        return []
    found, section = [], ""
    for block in re.split(r"^(?=##+ )", guide.read_text(encoding="utf-8"), flags=re.M):
        if block.startswith("## "):
            section = block.splitlines()[0][3:].strip()
        match = _HEADING.match(block)
        if match:
            found.append(Entry(match.group(2), match.group(3).strip(), section, block))
    return found


def likely_entry(step: int, words: list[str | None], guide: Path = GUIDE) -> Entry | None:
    """The one entry of ``step`` (or of the infrastructure section) quoting the first of
    ``words`` that only one entry quotes; None when none is obvious."""
    candidates = [e for e in entries(guide) if e.section.startswith(f"Step {step}:") or e.section == "Infrastructure"]
    for word in words:
        if not word or len(word) < 6:
            continue
        quoting = [entry for entry in candidates if word in entry.text]
        if len(quoting) == 1:
            return quoting[0]
    return None


def outage_entry(unreachable: str, guide: Path = GUIDE) -> Entry | None:
    """The entry for a service that did not answer (``OUTAGES``' names)."""
    case = OUTAGES.get(unreachable)
    return next((entry for entry in entries(guide) if entry.case == case), None)
