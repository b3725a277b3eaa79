"""What the screenshots keep of a page's text: the page, not the moment it was taken."""

from __future__ import annotations

from local_stack import demo_settings
from workshop.page_text import normalised

STACK = demo_settings.of_stack(
    {
        "mock-idp": "http://localhost:19000",
        "target-api": "http://localhost:13002",
        "source-api": "http://localhost:13001",
        "web-app": "http://localhost:13000",
    }
)


def test_the_stacks_urls_become_the_variables_of_make_env():
    text = "Open http://localhost:13000/panel and http://localhost:19000/logs, not http://localhost:130001."
    assert normalised(text, STACK) == "Open $WEB/panel and $IDP/logs, not http://localhost:130001.\n"


def test_a_url_in_a_query_parameter_becomes_its_variable_too():
    text = "GET http://localhost:19000/authorize?redirect_uri=http%3A%2F%2Flocalhost%3A13000%2Fcallback"
    assert normalised(text, STACK) == "GET $IDP/authorize?redirect_uri=$WEB%2Fcallback\n"


def test_what_changes_from_run_to_run_is_a_placeholder():
    taken = (
        "call 2026-12-06 16:05:04 UTC (in 23 h 59 min 59 s), answered 200\n"
        "logged\t16:05:04   2026-12-06\n"
        "iat differs 1765036704 (x)\n"
        "Request id 9330c47f222f4add8750baf98742aa10: 12 ms\n"
        "code sXfUYeoQTABbR5…XQKcDW show\n"
        '"access_token": "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhIn0.NQ-uuQ",\n'
        "5 s ago (now) code_challenge Xb8nq2Lk4m0PqRsTuVwXyZ12\n"
        "nonce LBNsTlCETbYtKxfbUbWB\n"
        "current kid uMPP6kTJFJUc…; 1 published\n"
    )
    assert normalised(taken, STACK) == (
        "call <time> (<span>), answered 200\n"
        "logged <time> <date>\n"
        "iat <epoch> (x)\n"
        "Request id <id>: <n> ms\n"
        "code <shortened> show\n"
        '"access_token": "<token>",\n'
        "<span> ago (<span>) code_challenge <random>\n"
        "nonce <random>\n"
        "current kid <shortened>; 1 published\n"
    )


def test_what_the_page_says_stays():
    page = (
        "A short Source API token lifetime (60 s)\nBack to 86400 s\nunauthorized_client T16 read:contacts\n"
        "failed_on_behalf_of_token_exchange https://target-api.example.com WEB_APP_CLIENT_SECRET\n"
    )
    assert normalised(page, STACK) == page


def test_the_demos_key_history_is_a_placeholder():
    assert (
        normalised("current kid <k>; 2 published, 1 retired", STACK) == "current kid <k>; <n> published, <n> retired\n"
    )
