"""Debian's Chromium as Playwright starts it here: for the browser tests and `make screenshots`."""

CHROMIUM = "/usr/bin/chromium"
# As the machine's probe starts it: without the background-networking flags Chromium
# keeps trying hosts this closed network refuses.
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
VIEWPORT = {"width": 1280, "height": 720}  # a projector's
