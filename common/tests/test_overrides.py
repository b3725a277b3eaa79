"""Every method that overrides one of Authlib's says so, so a renamed or removed Authlib
method fails the type check instead of silently no longer being called."""

from obo_testing.overrides import unmarked_overrides


def test_every_authlib_override_carries_override():
    assert unmarked_overrides("obo_common") == []
