"""Warnings about a configuration that deploys but is likely a mistake, decided once
(`mtasts.config.advice`) and given alike by `render` and by the program: a plaintext token in
the stack file (never shown), `tlsRpt` unset, a domain left at an example name."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from mtasts.config import ConfigError, parse_settings
from mtasts.config.advice import argument_warnings, is_example_domain, settings_warnings
from tests.pulumi_mocks import StackRun

TOKEN = "nfp_Hx7Kq2ZLm9Pw4Rt8Vb3Nc6Yd1Fg5Js0A"
CF_TOKEN = "cf-0123456789abcdefghijklmnopqrstuvwxyzAB"
MISTAKES = (
    "config:\n"
    "  mta-sts:domain: staging.example.com\n"
    "  mta-sts:hosting: github-pages\n"
    f"  mta-sts:netlifyToken: {TOKEN}\n"
    f"  cloudflare:apiToken: {CF_TOKEN}\n"
    "  github:owner: alice\n"
)
CLEAN = (
    "config:\n"
    "  mta-sts:domain: mail-owner.net\n"
    "  mta-sts:hosting: github-pages\n"
    "  mta-sts:tlsRpt:\n    - mailto:tls-reports@mail-owner.net\n"
    "  mta-sts:netlifyToken:\n    secure: v1:AAAA\n"
)


def render_warnings(tmp_path: Path, body: str) -> list[str]:
    (tmp_path / "Pulumi.test.yaml").write_text(body)
    result = subprocess.run(
        [sys.executable, "-m", "mtasts", "--project-dir", str(tmp_path), "render", "--stack", "test"],
        capture_output=True,
        text=True,
        timeout=60,
        env={"PATH": "/usr/bin:/bin"},
    )
    assert result.returncode == 0, result.stderr
    assert TOKEN not in result.stderr + result.stdout and CF_TOKEN not in result.stderr + result.stdout
    return [
        line.removeprefix("warning: ") for line in result.stderr.splitlines() if line.startswith("warning: ")
    ]


def test_render_warns_of_plaintext_tokens_a_missing_tls_rpt_and_an_example_domain(tmp_path: Path) -> None:
    warnings = render_warnings(tmp_path, MISTAKES)
    assert len(warnings) == 4, warnings
    assert warnings[0].startswith("'mta-sts:netlifyToken' is written in plain text in Pulumi.test.yaml")
    assert "`scripts/pulumi config set --secret cloudflare:apiToken --stack test`" in warnings[1]
    assert "staging.example.com is a name reserved for examples (RFC 2606)" in warnings[2]
    assert warnings[3].startswith("tlsRpt is not set") and "--stack test`" in warnings[3]


def test_render_gives_no_warning_for_a_real_domain_with_reports_and_encrypted_secrets(tmp_path: Path) -> None:
    assert render_warnings(tmp_path, CLEAN) == []


def test_the_program_warns_as_render_does(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, stack: Callable[..., StackRun]
) -> None:
    expected = render_warnings(tmp_path, MISTAKES)
    monkeypatch.chdir(tmp_path)
    run = stack({"domain": "staging.example.com", "hosting": "github-pages"})
    assert [warning for warning in run.warnings if warning in expected] == expected
    assert not any(TOKEN in warning or CF_TOKEN in warning for warning in run.warnings)


@pytest.mark.parametrize(
    ("domain", "example"),
    [
        ("example.com", True),
        ("staging.example.com", True),
        ("example.net", True),
        ("mail.example.org", True),
        ("shop.test", True),
        ("example", True),
        ("a.invalid", True),
        ("mta.localhost", True),
        ("example.co.uk", False),
        ("myexample.com", False),
        ("example.com.au", False),
        ("testing.io", False),
    ],
)
def test_example_domains_are_the_names_rfc_2606_reserves(domain: str, example: bool) -> None:
    assert is_example_domain(domain) is example


@pytest.mark.parametrize("value", ["tls-reports@mail-owner.net", ["tls-reports@mail-owner.net"]])
def test_a_report_address_without_its_scheme_gets_the_mailto_fix(value: object) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_settings({"domain": "mail-owner.net", "tlsRpt": value})
    [problem] = caught.value.problems
    assert "mailto:tls-reports@mail-owner.net" in problem, problem


def test_render_and_the_component_warn_of_a_short_enforce_max_age_each_in_their_terms() -> None:
    short = {"domain": "shop.io", "mode": "enforce", "maxAge": 3600, "tlsRpt": ["mailto:t@shop.io"]}
    settings = parse_settings(short)
    [warning] = settings_warnings(settings, "prod")
    assert warning.startswith("mode is enforce with max_age 3,600 s, under a day")
    assert warning.endswith("`scripts/pulumi config set maxAge 604800 --stack prod`.")
    [argument] = argument_warnings(settings)
    assert argument.endswith("for shop.io: pass max_age=604800 (a week)") and "config" not in argument
    # Retiring serves mode none, whatever maxAge says: nothing to warn of.
    assert settings_warnings(parse_settings({**short, "maxAge": 0, "retire": True}), "prod") == []
    assert settings_warnings(parse_settings({**short, "maxAge": 604800}), "prod") == []
