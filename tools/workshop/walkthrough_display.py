"""How the terminal walkthrough prints: headings, wrapped prose, curl commands, JSON,
decoded tokens and claim diffs, readable on a projector.

Colour only when stdout is a terminal and NO_COLOR is not set (https://no-color.org);
ASCII only, so a terminal of any encoding shows it. Long tokens are shortened for reading;
the curl commands name them as shell variables instead of repeating them.
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import sys
import textwrap
from dataclasses import dataclass, field
from typing import Any

from obo_common import token_display
from obo_common.token_display import CHANGED, MISSING, ONLY_FIRST, ONLY_SECOND

MASK = "********"
MAX_WIDTH = 100  # wider lines are hard to follow on a projector, even where they fit

_STYLES = {"heading": "1;36", "command": "32", "note": "2", CHANGED: "33", ONLY_FIRST: "31", ONLY_SECOND: "32"}
MARKS = {token_display.SAME: "  ", CHANGED: "~ ", ONLY_FIRST: "- ", ONLY_SECOND: "+ "}


@dataclass
class Request:
    """What the walkthrough sent, with the values that the printout names as shell variables."""

    method: str
    url: str
    form: dict[str, str] | None = None
    headers: dict[str, str] = field(default_factory=dict)
    variables: dict[str, str] = field(default_factory=dict)  # form field or header -> variable name

    def curl(self) -> str:
        # curl posts a form by itself; -X only for what it cannot infer.
        inferred = "POST" if self.form else "GET"
        first = "curl -sS" + ("" if self.method == inferred else f" -X {self.method}")
        lines = [f"{first} {shlex.quote(self.url)}"]
        for name, value in self.headers.items():
            scheme, _, _ = value.rpartition(" ")  # a header's variable stands for its last word
            shown = self._with_variable(name, f"{name}: {scheme} " if scheme else f"{name}: ")
            lines.append(f"-H {shown or shlex.quote(f'{name}: {value}')}")
        for name, value in (self.form or {}).items():
            lines.append(f"--data-urlencode {self._with_variable(name, f'{name}=') or shlex.quote(f'{name}={value}')}")
        return " \\\n  ".join(lines)

    def _with_variable(self, name: str, prefix: str) -> str | None:
        """``"client_secret=$WEB_APP_CLIENT_SECRET"``: for the shell to fill in; None if not a variable."""
        variable = self.variables.get(name)
        return f'"{prefix}${variable}"' if variable else None


class Output:
    def __init__(self, stream=None, show_tokens: bool = False):
        self.stream = stream or sys.stdout
        self.show_tokens = show_tokens
        self.colour = self.stream.isatty() and not os.environ.get("NO_COLOR")
        self.width = min(MAX_WIDTH, shutil.get_terminal_size((MAX_WIDTH, 24)).columns)

    # -- the pieces of a step ----------------------------------------------------------

    def heading(self, text: str) -> None:
        self._print("")
        self._print(self._style("heading", f"== {text} ".ljust(self.width, "=")))

    def subheading(self, text: str) -> None:
        self._print("")
        self._print(self._style("heading", f"-- {text}"))

    def say(self, text: str, indent: str = "", hanging: str | None = None) -> None:
        """A paragraph, wrapped to the width; its later lines indented by ``hanging``."""
        later = indent if hanging is None else hanging
        self._print(textwrap.fill(" ".join(text.split()), self.width, initial_indent=indent, subsequent_indent=later))

    def line(self, text: str) -> None:
        """One line as it is, unwrapped (a command to copy)."""
        self._print(text)

    def note(self, text: str) -> None:
        self._print(self._style("note", textwrap.fill(" ".join(text.split()), self.width)))

    def command(self, request: Request) -> None:
        self._print("")
        self._print(self._style("command", "$ " + request.curl().replace("\n", "\n  ")))

    def answer(self, status: int, reason: str, content_type: str, body: Any) -> None:
        self._print("")
        self._print(f"HTTP {status} {reason}" + (f"  ({content_type})" if content_type else ""))
        if isinstance(body, dict | list):
            self._print(json.dumps(body if self.show_tokens else shorten_tokens(body), indent=2))
        elif body:
            self._print(textwrap.shorten(str(body), 2000, placeholder=" [...]"))

    def fields(self, pairs: list[tuple[str, Any]], indent: str = "  ") -> None:
        """name  value lines, the values aligned and wrapped under themselves."""
        width = min(max((len(name) for name, _ in pairs), default=0), 24)
        for name, value in pairs:
            text = value if isinstance(value, str) else json.dumps(value)
            self._print(self._hanging(f"{indent}{name.ljust(width)}  ", text))

    def token(self, title: str, token: str | None, verifier: str = "the APIs verify it") -> dict | None:
        """A token's header and claims, decoded for display; its claims, or None."""
        self.subheading(title)
        decoded = token_display.decode_unverified(token)
        if decoded is None:
            self.say("Not a JWT: an opaque value, read only by the identity provider.")
            return None
        header, claims = decoded
        self.note(f"Decoded without verifying the signature, for reading only: {verifier} against the JWKS.")
        self._print("  header")
        self.fields(list(header.items()), indent="    ")
        self._print("  claims")
        self.fields([(name, claim_text(name, value)) for name, value in claims.items()], indent="    ")
        acted = token_display.describe_act_chain(token_display.act_chain(claims))
        if acted:
            self._print(f"  acted: {acted}")
            self.note("A delegated token: act (RFC 8693 4.1) names who called on the user's behalf, newest first.")
        return claims

    def diff(self, first_name: str, second_name: str, rows: list, only_changes: bool = False) -> None:
        """Claim by claim: a mark per row, the first token's value, then the second's under it."""
        legend = f'"~" changed, "-" only in {first_name}, "+" only in {second_name}'
        self.note(f"Legend: {legend}; unmarked: the same in both.")
        width = min(max((len(row.claim) for row in rows), default=0), 24)
        unchanged = []
        for row in rows:
            if only_changes and row.change == token_display.SAME:
                unchanged.append(row.claim)
                continue
            first, second = (claim_text(row.claim, value) for value in (row.first, row.second))
            lead = f"  {MARKS[row.change]}{row.claim.ljust(width)}  "
            if row.change == CHANGED:
                self._print(self._style(CHANGED, self._hanging(lead, first)))
                self._print(self._style(CHANGED, self._hanging(" " * (len(lead) - 3) + "-> ", second)))
            else:
                shown = second if row.change == ONLY_SECOND else first
                self._print(self._style(row.change, self._hanging(lead, shown)))
        if unchanged:
            self.say("Unchanged: " + ", ".join(unchanged) + ".", indent="  ")

    # -- plumbing ------------------------------------------------------------------------

    def _hanging(self, lead: str, text: str) -> str:
        room = max(self.width - len(lead), 30)
        lines = textwrap.wrap(text, room, break_on_hyphens=False) or [""]
        return lead + ("\n" + " " * len(lead)).join(lines)

    def _style(self, kind: str, text: str) -> str:
        code = _STYLES.get(kind)
        return f"\033[{code}m{text}\033[0m" if self.colour and code else text

    def _print(self, text: str) -> None:
        print(text, file=self.stream, flush=True)


def claim_text(name: str, value: Any) -> str:
    if value is MISSING:
        return "(absent)"
    if name == token_display.LIFETIME:
        return f"{value}s ({token_display.duration(value)})"
    if name in token_display.TIME_CLAIMS:
        return token_display.describe_time(value)
    return value if isinstance(value, str) else json.dumps(value)


def short_token(value: str) -> str:
    """The two ends of a long token and its length: enough to tell tokens apart by eye."""
    return value if len(value) <= 48 else f"{value[:24]}...{value[-8:]} ({len(value)} characters)"


def shorten_tokens(body: Any) -> Any:
    """A JSON body with the values of its ``*token`` fields shortened (see ``short_token``)."""
    if isinstance(body, dict):
        return {
            name: short_token(value) if name.endswith("token") and isinstance(value, str) else shorten_tokens(value)
            for name, value in body.items()
        }
    if isinstance(body, list):
        return [shorten_tokens(item) for item in body]
    return body
