"""The troubleshooting guide's Markdown as this app shows it: the whole guide on
/troubleshooting, and one paragraph of an entry on an error page.

The file is the project's own documentation, so its inline HTML (the anchors) is kept.
It is written with `make up`'s URLs; the app shows the URLs of the stack it runs in.
"""

from __future__ import annotations

import re

import markdown
from markupsafe import Markup

GUIDE_PAGE = "/troubleshooting"
# A link to another page of docs/ (``management-api.md#a-token``): this app serves only the
# guide, so the link becomes the file's name, which a reader finds in the repository.
_OTHER_DOC = re.compile(r'<a href="([\w-]+\.md)(#[\w-]*)?">(.*?)</a>')
_ENTRY_LINK = re.compile(r'href="(#t\d\d)"')
_ONE_PARAGRAPH = re.compile(r"^<p>(.*)</p>$", re.S)


def page_html(text: str, urls: dict[str, str] | None = None) -> Markup:
    """The whole guide; ``urls`` maps a URL the guide is written with to this stack's."""
    html = markdown.markdown(on_this_stack(text, urls or {}), extensions=["tables", "fenced_code"])
    return Markup(_OTHER_DOC.sub(_file_name, html))  # noqa: S704


def paragraph_html(text: str, urls: dict[str, str] | None = None) -> Markup:
    """One paragraph, without its ``<p>``, for a page other than the guide's."""
    html = _OTHER_DOC.sub(_file_name, markdown.markdown(on_this_stack(text, urls or {})))
    html = _ENTRY_LINK.sub(lambda m: f'href="{GUIDE_PAGE}{m.group(1)}"', html)
    return Markup(_ONE_PARAGRAPH.sub(r"\1", html))  # noqa: S704


def on_this_stack(text: str, urls: dict[str, str]) -> str:
    """``text`` with each URL of ``urls`` (not followed by another digit of a port) replaced,
    in one pass, so that a URL put in is never replaced again."""
    moved = {written: actual for written, actual in urls.items() if written != actual}
    if not moved:
        return text
    pattern = re.compile("|".join(re.escape(written) + r"(?!\d)" for written in sorted(moved, key=len, reverse=True)))
    return pattern.sub(lambda match: moved[match.group(0)], text)


def _file_name(match: re.Match) -> str:
    return f"{match.group(3)} (<code>docs/{match.group(1)}{match.group(2) or ''}</code>)"
