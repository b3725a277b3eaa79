"""The troubleshooting guide's Markdown as this app shows it: the whole guide on
/troubleshooting, and one paragraph of an entry on an error page.

The file is the project's own documentation, so its inline HTML (the anchors) is kept.
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


def page_html(text: str) -> Markup:
    html = markdown.markdown(text, extensions=["tables", "fenced_code"])
    return Markup(_OTHER_DOC.sub(_file_name, html))  # noqa: S704


def paragraph_html(text: str) -> Markup:
    """One paragraph, without its ``<p>``, for a page other than the guide's."""
    html = _OTHER_DOC.sub(_file_name, markdown.markdown(text))
    html = _ENTRY_LINK.sub(lambda m: f'href="{GUIDE_PAGE}{m.group(1)}"', html)
    return Markup(_ONE_PARAGRAPH.sub(r"\1", html))  # noqa: S704


def _file_name(match: re.Match) -> str:
    return f"{match.group(3)} (<code>docs/{match.group(1)}{match.group(2) or ''}</code>)"
