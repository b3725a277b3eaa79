"""A failure the user is shown as a page: handlers only raise, error_pages.py renders."""

from __future__ import annotations

from dataclasses import dataclass, field

from .troubleshooting_cases import STEPS, Case, case_for


@dataclass
class Failure(Exception):
    status: int
    title: str  # what happened, in one line
    where: str | None = None  # see troubleshooting_cases; with error/description it names the case
    error: str | None = None  # the upstream OAuth error code
    description: str | None = None  # the upstream error_description
    reported_by: str | None = None  # "the identity provider", "the Source API", ...
    detail: str | None = None
    step: str | None = None  # when the case does not say (or there is no case)
    log_in_again: bool = False
    retry_after: str | None = None
    case: Case | None = field(default=None)

    def __post_init__(self):
        if self.case is None:
            self.case = case_for(self.where, self.error, self.description)

    @property
    def step_name(self) -> str | None:
        if self.step:
            return STEPS.get(self.step) or "Steps " + self.step
        return self.case.section if self.case else None  # the section of its guide entry

    def __str__(self) -> str:
        return f"{self.status} {self.title}"
