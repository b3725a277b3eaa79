"""make screenshots: the pictures of docs/workshop.md, taken from the running demo.

Puts the demo back to its start (as `make reset` does), then walks through the workshop in
Debian's Chromium driven by Playwright, at 1280x720 as on a projector: alice logs in and
consents, gets her contacts, opens the flow inspector, switches token exchange off on the
"break it" panel and calls, meets the error page, restores everything; last, the tenant
logs. Each picture is written to docs/img/ (``--out`` elsewhere), so the docs always show
what the current code shows. Needs /usr/bin/chromium (`apt-get install chromium`).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import re
import sys
from pathlib import Path

from local_stack import demo_settings
from workshop import reset_demo
from workshop.chromium import CHROMIUM, CHROMIUM_ARGS, VIEWPORT

ROOT = Path(__file__).resolve().parents[2]
EMAIL, PASSWORD = "alice@example.com", "Passw0rd!"
# Every picture this script takes: docs/workshop.md shows each of them.
PICTURES = ("consent", "call", "inspector", "inspector-diff", "panel", "error", "logs")


class Shots:
    def __init__(self, page, out: Path):
        self.page, self.out = page, out

    def take(self, name: str, at: str | None = None) -> None:
        """The window as a person sees it; ``at`` scrolls that element to the top first."""
        if at:
            self.page.locator(at).first.evaluate("element => element.scrollIntoView({block: 'start'})")
        path = self.out / f"{name}.png"
        self.page.screenshot(path=str(path))
        print(f"  {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}", flush=True)


def walk(page, settings: demo_settings.DemoSettings, shots: Shots) -> None:
    from playwright.sync_api import expect

    web_app = settings.web_app_url
    # Step 1: log in at the identity provider; the consent page shows (make reset withdrew it).
    page.goto(web_app + "/")
    page.get_by_role("link", name="Log in").first.click()
    page.fill("#email", EMAIL)
    page.fill("#password", PASSWORD)
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("button", name="Accept")).to_be_visible()
    shots.take("consent")
    page.get_by_role("button", name="Accept").click()
    expect(page.get_by_role("heading", name=re.compile("Hello"))).to_be_visible()

    # Steps 2-4: her contacts, and how they were obtained.
    page.get_by_role("link", name="Call the Source API").first.click()
    page.get_by_role("button", name=re.compile("Get my contacts")).click()
    expect(page.get_by_role("heading", name="Your contacts")).to_be_visible()
    shots.take("call")

    page.get_by_role("link", name="See how it was obtained, hop by hop").click()
    expect(page.get_by_role("heading", name="Flow inspector")).to_be_visible()
    shots.take("inspector")
    shots.take("inspector-diff", at="#diff")

    # Break it: token exchange off, then the panel's call.
    page.goto(web_app + "/panel")
    page.locator("#switch-exchange").get_by_role("button", name="Turn it off").click()
    page.get_by_role("button", name=re.compile("Call the Source API now")).click()
    expect(page.locator("#call-outcome")).to_contain_text("T16")
    shots.take("panel", at="#call-outcome")

    # What the user meets on the call page while it is off.
    page.goto(web_app + "/call")
    page.get_by_role("button", name=re.compile("Get my contacts")).click()
    expect(page.get_by_text("unauthorized_client").first).to_be_visible()
    shots.take("error")

    page.goto(web_app + "/panel")
    page.get_by_role("button", name="Restore everything").click()
    expect(page.locator("#switch-exchange .tag").first).to_have_text(re.compile("on"))

    page.goto(settings.issuer + "logs")
    expect(page.locator("#entries li[data-log-id]").first).to_be_visible()
    shots.take("logs")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "img")
    args = parser.parse_args(argv)
    try:
        from playwright.sync_api import Error, sync_playwright
    except ImportError:
        print("screenshots: the playwright package is missing (make installs it in .venv)", file=sys.stderr)
        return 1
    if not Path(CHROMIUM).exists():
        print(f"screenshots: {CHROMIUM} is missing: apt-get install chromium", file=sys.stderr)
        return 1
    print("Putting the demo back to its start (make reset)...", flush=True)
    with contextlib.redirect_stdout(io.StringIO()) as said:
        if reset_demo.main() != 0:
            print(said.getvalue(), file=sys.stderr)
            print("screenshots: make reset failed: is the demo running (`make up`)?", file=sys.stderr)
            return 1
    args.out.mkdir(parents=True, exist_ok=True)
    print(f"Taking {len(PICTURES)} pictures at {VIEWPORT['width']}x{VIEWPORT['height']}:", flush=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_context(viewport=VIEWPORT).new_page()
        page.set_default_timeout(15_000)
        try:
            walk(page, demo_settings.load(), Shots(page, args.out))
        except (Error, AssertionError) as error:
            page.screenshot(path=str(args.out / "failed.png"))
            print(f"screenshots: stopped at {page.url}: {error}", file=sys.stderr)
            return 1
        finally:
            browser.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
