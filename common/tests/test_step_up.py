"""RFC 9470 step-up: the requirement, checked against a token's claims, and its challenge
read back the same."""

from __future__ import annotations

import pytest

from obo_common.step_up import StepUpRequirement

NOW = 1_800_000_000


@pytest.mark.parametrize(
    ("required", "claims", "unmet"),
    [
        (StepUpRequirement(), {}, False),
        (StepUpRequirement(("urn:mock:mfa",)), {"acr": "urn:mock:mfa"}, False),
        (StepUpRequirement(("urn:mock:mfa",)), {"acr": "urn:mock:pwd"}, True),
        (StepUpRequirement(("urn:mock:mfa",)), {}, True),
        (StepUpRequirement(max_age=60), {"auth_time": NOW - 60}, False),
        (StepUpRequirement(max_age=60), {"auth_time": NOW - 61}, True),
        (StepUpRequirement(max_age=60), {"auth_time": True}, True),
        (StepUpRequirement(max_age=60), {}, True),
        (StepUpRequirement(("urn:mock:mfa",), 60), {"acr": "urn:mock:mfa", "auth_time": NOW - 61}, True),
    ],
)
def test_unmet(required, claims, unmet):
    assert (required.unmet(claims, now=NOW) is not None) is unmet


def test_the_challenge_reads_back_as_the_same_requirement():
    required = StepUpRequirement(("urn:mock:mfa", "urn:mock:pwd"), 300)
    header = required.challenge("https://target-api.example.com", 'needs "more"')
    assert header == (
        'Bearer realm="https://target-api.example.com", error="insufficient_user_authentication", '
        'error_description="needs \\"more\\"", acr_values="urn:mock:mfa urn:mock:pwd", max_age="300"'
    )
    assert StepUpRequirement.from_challenge(header) == required


@pytest.mark.parametrize("max_age", ["-1", "1e3", "9999999999", "", "soon"])
def test_a_max_age_that_is_not_a_small_integer_is_left_out(max_age):
    header = f'Bearer error="insufficient_user_authentication", max_age="{max_age}"'
    assert StepUpRequirement.from_challenge(header) == StepUpRequirement()


@pytest.mark.parametrize(
    "header", [None, "", 'Bearer error="invalid_token"', 'DPoP error="insufficient_user_authentication"']
)
def test_another_answer_is_no_step_up(header):
    assert StepUpRequirement.from_challenge(header) is None
