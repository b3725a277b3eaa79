import time

import pytest

from web_app import create_app


def test_healthz_answers_without_any_other_service(client, network):
    network.down.update(network.hosts)
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok"}
    assert network.calls == []


def test_the_logged_out_home_page_explains_the_demo_and_offers_to_log_in(client):
    page = client.get("/")
    assert page.status_code == 200
    assert "On-Behalf-Of" in page.text
    assert 'href="/login"' in page.text
    assert client.get_cookie("web_app_session") is None  # no session for a visitor who only looks


def test_pages_carry_security_headers_and_are_not_cached(client):
    response = client.get("/")
    assert response.headers["Content-Security-Policy"] == "default-src 'self'; frame-ancestors 'none'"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["X-Request-Id"]


def test_the_troubleshooting_guide_is_rendered_with_its_anchors(client, settings):
    settings.troubleshooting_file.write_text(
        '# Troubleshooting\n\n## <a id="t12"></a>T12: The access token has expired\n\n| a | b |\n|---|---|\n| 1 | 2 |\n'
    )
    page = client.get("/troubleshooting")
    assert page.status_code == 200
    assert '<a id="t12"></a>T12: The access token has expired' in page.text
    assert "<table>" in page.text


def test_links_to_other_docs_name_the_file_instead_of_a_page_this_app_lacks(client, settings):
    settings.troubleshooting_file.write_text(
        "See [the token](management-api.md#a-token), [workshop](workshop.md), [T12](#t12) and <http://x/panel>.\n"
    )
    text = client.get("/troubleshooting").text
    assert "the token (<code>docs/management-api.md#a-token</code>)" in text
    assert "workshop (<code>docs/workshop.md</code>)" in text
    assert 'href="management-api.md' not in text
    assert 'href="workshop.md"' not in text
    assert '<a href="#t12">T12</a>' in text
    assert '<a href="http://x/panel">' in text


def test_a_missing_troubleshooting_guide_is_a_404_page_not_a_crash(client):
    page = client.get("/troubleshooting")
    assert page.status_code == 404
    assert "troubleshooting.md" in page.text
    assert "not there yet" in page.text


def test_unknown_pages_and_methods_get_clear_pages(client):
    assert client.get("/nope").status_code == 404
    page = client.get("/logout")
    assert page.status_code == 405
    assert "Method Not Allowed" in page.text


def test_an_unexpected_error_is_a_500_page_without_a_stack_trace(logged_in, monkeypatch):
    from web_app import token_store

    monkeypatch.setattr(token_store, "facts", lambda: 1 / 0)
    page = logged_in.client.get("/")
    assert page.status_code == 500
    assert "Something went wrong" in page.text
    assert "ZeroDivisionError" not in page.text


def test_a_too_large_form_is_refused(client):
    page = client.post("/call", data={"endpoint": "x" * 20000})
    assert page.status_code in (400, 413)
    assert "Traceback" not in page.text


def test_the_guide_shows_the_urls_of_the_stack_it_runs_in(settings, idp, source_api):
    moved = settings.model_copy(update={"base_url": "http://localhost:4000"})
    client = create_app(moved).test_client()
    moved.troubleshooting_file.write_text(
        "Read <http://localhost:9000/logs> and <http://localhost:3000/panel>; not http://localhost:30001.\n\n"
        '```sh\ncurl -s "$SRC/api/me"\n```\n'
    )
    text = client.get("/troubleshooting").text
    assert f'<a href="{moved.issuer}logs">' in text
    assert '<a href="http://localhost:4000/panel">' in text
    assert "http://localhost:30001" in text  # another port, not the web app's
    assert "<code>$WEB</code> = <code>http://localhost:4000</code>" in text
    assert f"<code>$SRC</code> = <code>{moved.source_api_url}</code>" in text
    assert 'eval "$(make -s env)"' in text.replace("&#34;", '"').replace("&quot;", '"')


@pytest.mark.parametrize(
    ("offset", "shown"),
    [
        (0, "(now)"),
        (59, "(in 59 s)"),
        (-30, "(30 s ago)"),
        (90, "(in 1 min)"),
        (86400 + 3600 + 120, "(in 1 d 1 h 2 min)"),
        (-7200, "(2 h ago)"),
    ],
)
def test_a_time_says_how_far_it_is_to_the_second_under_a_minute(app, monkeypatch, offset, shown):
    monkeypatch.setattr(time, "time", lambda: 1_800_000_000.0)
    when = app.jinja_env.filters["when"]
    assert when(1_800_000_000 + offset).endswith(" " + shown)


def test_the_favicon_is_an_icon_not_a_404(client):
    icon = client.get("/favicon.ico")
    assert icon.status_code == 200
    assert icon.mimetype == "image/svg+xml"
    assert b"<svg" in icon.data
    assert 'rel="icon"' in client.get("/").text


@pytest.mark.parametrize("body", [b"[{}]", b"[1, 2]", b'{"endpoint": "contacts"}'])
def test_a_json_body_with_a_valid_csrf_header_is_not_a_form(logged_in, body):
    # The pages' forms read a form-encoded body only; a JSON list once failed inside Flask-WTF.
    token = logged_in.csrf_token("/call")
    response = logged_in.client.post(
        "/call", data=body, content_type="application/json", headers={"X-CSRFToken": token}
    )
    assert response.status_code in (200, 400), response.text
