"""A page's text as the screenshots keep it beside each picture (docs/img/<name>.txt).

A picture cannot be compared with the code that made it, but its page's text can: when
`make screenshots` takes a picture it also writes the page's visible text, and a test
renders the pages again and compares the two, so a picture cannot silently go stale. What
differs from run to run without the page changing (times, ids, tokens, random values,
durations, the stack's ports) is replaced by a placeholder, the same way on both sides.
"""

from __future__ import annotations

import re
from urllib.parse import quote

from local_stack import demo_settings

# Order matters: tokens before ids, full timestamps before bare times.
_VOLATILE = [
    (re.compile(r"eyJ[\w-]*(\.[\w-]*){0,2}(…[\w-]*)?"), "<token>"),
    (re.compile(r"[\w-]{6,}…([\w-]{3,})?"), "<shortened>"),
    (re.compile(r"\b\d{4}-\d\d-\d\d[T ]\d\d:\d\d(:\d\d(\.\d+)?)?( ?UTC|Z|[+-]\d\d:\d\d)?"), "<time>"),
    (re.compile(r"\b\d\d:\d\d:\d\d\b"), "<time>"),
    (re.compile(r"\b\d{4}-\d\d-\d\d\b"), "<date>"),
    # How far a time is from now ("in 23 h 59 min", "5 s ago"); a lifetime ("60 s") stays.
    (re.compile(r"\bin \d+ (d|h|min|s)\b( \d+ (d|h|min|s)\b)*"), "in <span>"),
    (re.compile(r"\b\d+ (d|h|min|s)\b( \d+ (d|h|min|s)\b)* ago\b"), "<span> ago"),
    (re.compile(r"\((in <span>|<span> ago|now)\)"), "(<span>)"),
    # Two tokens issued in the same second or not: a matter of timing, not of the page.
    (re.compile(r"^(iat|exp|nbf|auth_time) differs ", re.M), r"\1 "),
    (re.compile(r"\b1\d{9}\b"), "<epoch>"),
    # How many signing keys the demo has rotated so far: its history, not the page.
    (re.compile(r"\b\d+ published, \d+ retired\b"), "<n> published, <n> retired"),
    (re.compile(r"\b\d+(\.\d+)? ?ms\b"), "<n> ms"),
    (re.compile(r"\b[0-9a-f]{12,}\b"), "<id>"),
    (re.compile(r"[0-9a-f]{12}…"), "<id>…"),
    # PKCE verifiers and challenges, states, nonces, codes, secrets: url-safe random strings.
    # Mixed case or letters with digits; a snake_case word such as an error code stays.
    (
        re.compile(
            r"(?<![\w/.-])(?:(?=[\w-]*[A-Z])(?=[\w-]*[a-z])|(?=[\w-]*\d)(?=[\w-]*[A-Za-z]))[\w-]{16,}(?![\w/.-])"
        ),
        "<random>",
    ),
]


def normalised(text: str, settings: demo_settings.DemoSettings) -> str:
    """``text`` with the stack's URLs written as the variables of `make -s env` and every
    volatile value as a placeholder; white space runs made single, one line per line."""
    urls = {
        settings.issuer.rstrip("/"): "$IDP",
        settings.web_app_url: "$WEB",
        settings.source_api_url: "$SRC",
        settings.target_api_url: "$TGT",
    }
    # As a query parameter too (the redirect_uri of an /authorize request): percent-encoded.
    urls |= {quote(url, safe=""): variable for url, variable in urls.items()}
    pattern = re.compile("|".join(re.escape(url) + r"(?!\d)" for url in sorted(urls, key=len, reverse=True)))
    text = pattern.sub(lambda match: urls[match.group(0)], text)
    lines = (" ".join(line.split()) for line in text.splitlines())
    text = "\n".join(line for line in lines if line) + "\n"
    for volatile, placeholder in _VOLATILE:
        text = volatile.sub(placeholder, text)
    return text


def of_page(page, settings: demo_settings.DemoSettings) -> str:
    """The page's visible text (what a reader sees, not its markup), normalised."""
    return normalised(page.locator("body").inner_text(), settings)
