"""One exception tree: every error the core raises on purpose shares one base, keeps its name
(and `ValueError` where it was one), and its message is what it always said. The components'
errors are checked beside their own tests (test_polling, test_readiness, test_netlify_*)."""

from __future__ import annotations

import pytest

from mtasts.adoption import AdoptionError, AdoptionPlan, Conflict, ExistingRecord
from mtasts.config import ConfigError
from mtasts.errors import MtaStsError, ProblemsError
from mtasts.exits import UsageError
from mtasts.policy import PolicyError
from mtasts.reports.imap import ImapUrlError
from mtasts.reports.mail import NotAReport
from mtasts.reports.model import ReportError
from mtasts.stackfile import StackFileError

VALUE_ERRORS = [
    ConfigError,
    PolicyError,
    ReportError,
    AdoptionError,
    StackFileError,
    UsageError,
    NotAReport,
    ImapUrlError,
]


@pytest.mark.parametrize("error", VALUE_ERRORS, ids=lambda e: e.__name__)
def test_every_error_the_project_raises_is_an_mta_sts_error(error: type[Exception]) -> None:
    assert issubclass(error, MtaStsError)


@pytest.mark.parametrize("error", VALUE_ERRORS, ids=lambda e: e.__name__)
def test_an_error_that_was_a_value_error_still_is_one(error: type[Exception]) -> None:
    assert issubclass(error, ValueError)


def test_the_errors_that_list_problems_share_one_base_that_keeps_every_problem() -> None:
    for error in (ConfigError(["a", "b"]), PolicyError(["a", "b"]), ReportError(["a", "b"])):
        assert isinstance(error, ProblemsError) and error.problems == ["a", "b"]


def test_the_configuration_error_lists_each_problem_on_its_own_line() -> None:
    assert str(ConfigError(["'mode' is bad", "'mx' is empty"])) == (
        "invalid mta-sts configuration:\n  - 'mode' is bad\n  - 'mx' is empty"
    )


def test_the_policy_and_report_errors_join_their_problems_on_one_line() -> None:
    assert str(PolicyError(["no version", "no mode"])) == "no version; no mode"
    assert str(ReportError(["not JSON"])) == "not JSON"


def test_the_adoption_error_says_what_to_delete_and_lists_each_conflict() -> None:
    record = ExistingRecord("r1", "mta-sts.example.com", "CNAME", "site.netlify.app")
    error = AdoptionError(AdoptionPlan(conflicts=(Conflict(record, "a CNAME; delete it"),)))
    assert error.problems == ["mta-sts.example.com CNAME 'site.netlify.app' (id r1): a CNAME; delete it"]
    assert str(error) == (
        "the zone holds records that conflict with what this stack publishes; delete them "
        "(Cloudflare dashboard → the zone → DNS → Records), then run again. Nothing was changed.\n"
        "  - mta-sts.example.com CNAME 'site.netlify.app' (id r1): a CNAME; delete it"
    )
