"""The recorded run as an SVG sequence diagram, drawn on the server for the flow inspector.

Five lanes (``obo_common.flow_sequence.LANES``), one arrow per hop, top to bottom in the
order they happened; each arrow carries its step's number in a badge, the endpoint and the
answer, and links to the hop's details on the page. How an arrow is drawn says what it was:
a call (solid), a refresh (dashed), a cache hit (a dotted loop on the Source API's lane, no
call made), a failure (red, thicker, with its troubleshooting case).

Only presentation attributes, no ``style``: the page's CSP allows no inline style, and the
picture needs no script or font beyond the browser's own. Every recorded value is escaped
(``markupsafe.escape``) before it goes into the markup.
"""

from __future__ import annotations

from markupsafe import Markup, escape

from obo_common.flow_sequence import CACHE, FAILED, LANES, REFRESH, Arrow

WIDTH = 1000
_LANE_GAP = 200
_TOP = 58  # below the lane heads
_ROW = 46
_FONT = 15
_COLOURS = {"call": "#3451d1", REFRESH: "#7a3fb3", CACHE: "#2f7d4f", FAILED: "#c62828"}
_DASHES = {REFRESH: "9 5", CACHE: "3 4"}


def lane_x(index: int) -> int:
    return _LANE_GAP // 2 + index * _LANE_GAP


def render(sequence: list[Arrow]) -> Markup:
    """The ``<svg>`` element for ``sequence`` (an empty diagram says so)."""
    height = _TOP + max(len(sequence), 1) * _ROW + 16
    parts = [
        f'<svg class="sequence" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height}" '
        f'width="100%" role="group" aria-label="The recorded run as a sequence diagram" '
        f'font-family="system-ui, sans-serif" font-size="{_FONT}">',
        _markers(),
    ]
    for index, name in enumerate(LANES):
        x = lane_x(index)
        parts.append(
            f'<g class="lane"><rect x="{x - 88}" y="4" width="176" height="34" rx="6" fill="#eef1f8" '
            f'stroke="#9aa5c4"/><text x="{x}" y="27" text-anchor="middle" font-weight="700" '
            f'fill="#1d2433">{escape(name)}</text>'
            f'<line x1="{x}" y1="38" x2="{x}" y2="{height - 6}" stroke="#c9d1e6" stroke-width="2"/></g>'
        )
    if not sequence:
        parts.append(
            f'<text x="{WIDTH // 2}" y="{_TOP + 24}" text-anchor="middle" fill="#5b6478">Nothing recorded yet</text>'
        )
    for row, arrow in enumerate(sequence):
        parts.append(_arrow(arrow, _TOP + row * _ROW + 28))
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704  # every recorded value in it went through escape()


def _markers() -> str:
    return (
        "<defs>"
        + "".join(
            f'<marker id="seq-head-{kind}" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="8" markerHeight="8" '
            f'orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="{colour}"/></marker>'
            for kind, colour in _COLOURS.items()
        )
        + "</defs>"
    )


def _arrow(arrow: Arrow, y: int) -> str:
    colour = _COLOURS.get(arrow.kind, _COLOURS["call"])
    width = 3 if arrow.kind == FAILED else 2
    dash = f' stroke-dasharray="{_DASHES[arrow.kind]}"' if arrow.kind in _DASHES else ""
    x1, x2 = lane_x(arrow.source), lane_x(arrow.target)
    stroke = f'stroke="{colour}" stroke-width="{width}"{dash} fill="none" marker-end="url(#seq-head-{arrow.kind})"'
    if x1 == x2:  # a cache hit (or a call to itself): a loop on the lane
        line = f'<path d="M{x1},{y - 12} h42 v20 h-38" {stroke}/>'
        text_x, anchor, text_y = x1 + 50, "start", y + 2
    else:
        line = f'<line x1="{x1}" y1="{y}" x2="{x2 - 4 if x2 > x1 else x2 + 4}" y2="{y}" {stroke}/>'
        text_x, anchor, text_y = (x1 + x2) // 2, "middle", y - 7
    bold = ' font-weight="700"' if arrow.kind == FAILED else ""
    badge_x = x1 - 16 if x2 >= x1 else x1 + 16
    description = f"Step {arrow.step}, {arrow.title}: {LANES[arrow.source]} to {LANES[arrow.target]}, {arrow.label}" + (
        " (failed)" if arrow.kind == FAILED and not arrow.case else ""
    )
    case = f' data-case="{escape(arrow.case)}"' if arrow.case else ""
    href = f' href="#{escape(arrow.anchor)}"' if arrow.anchor else ""
    return (
        f'<a class="arrow {arrow.kind}"{href} data-step="{escape(arrow.step)}"{case} '
        f'aria-label="{escape(description)}"><title>{escape(description)}</title>'
        f'<rect x="{min(x1, x2) - 26}" y="{y - 24}" width="{abs(x2 - x1) + 100}" height="{_ROW - 6}" '
        f'fill="#fff" fill-opacity="0"/>'  # a wider target to click than a 2 px line
        f"{line}"
        f'<circle cx="{badge_x}" cy="{y}" r="11" fill="{colour}"/>'
        f'<text x="{badge_x}" y="{y + 5}" text-anchor="middle" fill="#fff" font-weight="700" '
        f'font-size="13">{escape(arrow.step)}</text>'
        f'<text class="label" x="{text_x}" y="{text_y}" text-anchor="{anchor}" fill="{colour}" '
        f'stroke="#fff" stroke-width="4" paint-order="stroke"'
        f"{bold}>{escape(arrow.label)}</text></a>"
    )
