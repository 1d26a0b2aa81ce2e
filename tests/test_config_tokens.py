"""A token pasted inside a value (`mailto:nfp_...@example.com`, `ghp_....example.com`,
`token=ghp_...`) is never shown back: not by the core, the component, the program or `render`,
and not in a rule's own words (`write it as ...`) or in a suggested command. The message still
names the setting, the problem and the fix; values without a token read as before."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mtasts.config import ConfigError, parse_settings
from mtasts.config.values import show
from tests.proton_values import DKIM, VERIFICATION
from tests.pulumi_mocks import FailedRun

NETLIFY = "nfp_Hx7Kq2ZLm9Pw4Rt8Vb3Nc6Yd1Fg5Js0A"
GITHUB = "ghp_R4nd0mL00k1ngT0k3nW1thD1g1tsAndXyZ9"
GITHUB_PAT = "github_pat_11ABCDEFG0abcdefghijklmnopqrstuvwxyz"
GITLAB = "glpat-Zx8Yw7Vu6Ts5Rq4Po3Nm"
CLOUDFLARE = "Zq3vY7kP0wXr9LmT2sJd8NfB5cHg4aE1uViO6yRt"
TOKENS = (NETLIFY, GITHUB, GITHUB_PAT, GITLAB, CLOUDFLARE)
BASE = {"domain": "example.com", "hosting": "github-pages"}
PROTON = {"verification": VERIFICATION, "dkim": DKIM}


def leaked(text: str, token: str) -> bool:
    """Whether any ten characters of `token` past its prefix are in `text`, in any case."""
    body, folded = token.lower()[4:], text.lower()
    return any(body[i : i + 10] in folded for i in range(len(body) - 9))


def problems(raw: dict[str, Any]) -> str:
    with pytest.raises(ConfigError) as caught:
        parse_settings({**BASE, **raw})
    return str(caught.value)


CASES = {
    "tlsRpt listed twice": (
        {"tlsRpt": [f"mailto:{NETLIFY}@example.com", f"mailto:{NETLIFY}@example.com"]},
        NETLIFY,
        ["'tlsRpt' entry 'mailto:", "is listed twice; list each URI once"],
    ),
    "tlsRpt listed twice in two spellings": (
        {"tlsRpt": [f"mailto:{NETLIFY}@example.com", f"mailto:{NETLIFY}@EXAMPLE.com"]},
        NETLIFY,
        ["is listed twice (it is the address of 'mailto:", "list each URI once"],
    ),
    "tlsRpt https path": (
        {"tlsRpt": [f"https://reports.example.com/{GITHUB},x"]},
        GITHUB,
        ["'tlsRpt' entry 'https://reports.example.com/", "is not accepted", "percent-encoded", "write it as"],
    ),
    "tlsRpt bare address": (
        {"tlsRpt": [f"{GITHUB_PAT}@example.com"]},
        GITHUB_PAT,
        ["'tlsRpt' entry", "is not accepted", "expected mailto:"],
    ),
    "tlsRpt header field": (
        {"tlsRpt": [f"mailto:tls@example.com?token={GITLAB}&x"]},
        GITLAB,
        ["'tlsRpt' entry 'mailto:tls@example.com?token=", "is not a valid mailto: URI"],
    ),
    "tlsRpt as a string": (
        {"tlsRpt": f"mailto:{NETLIFY}@example.com"},
        NETLIFY,
        ["'tlsRpt' must be a list", "--path 'tlsRpt[0]' mailto:tls-reports@example.com"],
    ),
    "mx label": (
        {"mx": [f"{GITHUB}.example.com"]},
        GITHUB,
        ["'mx' entry", "is not accepted", "expected a host name such as mail.example.com"],
    ),
    "mx pasted after a space": (
        {"mx": [f"mail.example.com {GITHUB}"]},
        GITHUB,
        ["'mx' entry 'mail.example.com ", "is not accepted"],
    ),
    "mx after an equals sign": (
        {"mx": [f"token={GITHUB}"]},
        GITHUB,
        ["'mx' entry", "is not accepted"],
    ),
    "mx in quotes": ({"mx": [f'"{GITHUB}"']}, GITHUB, ["'mx' entry '\"", "is not accepted"]),
    "mx listed twice": (
        {"mx": [f"{CLOUDFLARE}.example.com", f"{CLOUDFLARE}.example.com"]},
        CLOUDFLARE,
        ["'mx' entry '", ".example.com' is listed twice; list each pattern once"],
    ),
    "mx in Unicode": (
        {"mx": [f"{CLOUDFLARE}.exämple.com"]},
        CLOUDFLARE,
        ["'mx' entry '", "is written in Unicode", "write it as", ".xn--exmple-cua.com"],
    ),
    "mx not covering proton": (
        {"mode": "enforce", "mx": [f"{CLOUDFLARE}.example.com"], "proton": PROTON},
        CLOUDFLARE,
        ["'mx' [", "does not cover the MX host mail.protonmail.ch"],
    ),
    "proton.dmarcRua": (
        {"proton": {**PROTON, "dmarcRua": [f"https://reports.example.com/{GITLAB}"]}},
        GITLAB,
        ["'proton.dmarcRua' entry 'https://reports.example.com/", "is not a mailto URI"],
    ),
    "proton.dmarcRua listed twice": (
        {"proton": {**PROTON, "dmarcRua": [f"mailto:{GITLAB}@example.com"] * 2}},
        GITLAB,
        ["'proton.dmarcRua' entry 'mailto:", "is listed twice"],
    ),
    "proton.dkim target": (
        {"proton": {**PROTON, "dkim": {**DKIM, "protonmail": f"protonmail.domainkey.{GITHUB}.proton.ch"}}},
        GITHUB,
        ["'proton.dkim.protonmail' 'protonmail.domainkey.", "is not accepted; expected a host name"],
    ),
    "proton.dkim placeholder": (
        {"proton": {**PROTON, "dkim": {**DKIM, "protonmail": f"protonmail.domainkey.<code>.{GITHUB}"}}},
        GITHUB,
        ["'proton.dkim.protonmail': the target protonmail.domainkey.<code>.", "is a placeholder"],
    ),
    "proton.spfIncludes listed twice": (
        {"proton": {**PROTON, "spfIncludes": [f"{GITHUB}.example.net"] * 2}},
        GITHUB,
        ["'proton.spfIncludes' entry", "is listed already"],
    ),
}


@pytest.mark.parametrize("case", list(CASES))
def test_a_token_inside_a_value_is_never_shown_and_the_problem_still_is(case: str) -> None:
    raw, token, words = CASES[case]
    text = problems(raw)
    assert not leaked(text, token), text
    assert "shaped like a token" in text and "not shown" in text, text
    assert all(word in text for word in words), text


@pytest.mark.parametrize(
    "value",
    [
        "mailto:tls@example.com",
        "https://reports.example.com/tls/v1",
        "ghp.example.com",
        "nfp-mail.example.com",
    ],
)
def test_a_value_without_a_token_is_shown_as_written(value: str) -> None:
    assert show(value) == f"'{value}'"


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        # A Proton DKIM target: its long label is lower-case base32, part of a public DNS name.
        (
            {
                "proton": {
                    **PROTON,
                    "dkim": {
                        **DKIM,
                        "protonmail": "protonmail.domainkey."
                        "dq2ytuvqrvc3xyvoi2xj4ic2ocxtujhr7hl4yqmyohtw6kmzcbqdq.domains.proton.ch_",
                    },
                }
            },
            "dq2ytuvqrvc3xyvoi2xj4ic2ocxtujhr7hl4yqmyohtw6kmzcbqdq",
        ),
        (
            {"mx": ["mx1.mail-relay-eu-west-1-production2024.example.com"] * 2},
            "mail-relay-eu-west-1-production2024",
        ),
        (
            {"tlsRpt": ["mailto:tls-reports+mta-sts-monitoring2024@example.com"] * 2},
            "tls-reports+mta-sts-monitoring2024",
        ),
        (
            {"repository": "acme/mta-sts-policy-for-example-com-2024!"},
            "acme/mta-sts-policy-for-example-com-2024",
        ),
    ],
    ids=["dkim target", "hyphenated label", "long local part", "repository"],
)
def test_a_long_ordinary_part_of_a_value_is_shown_for_the_user_to_fix(
    raw: dict[str, Any], shown: str
) -> None:
    # Hyphenated words and lower-case DNS labels with digits are no tokens: hidden, the user
    # could not see what to fix. A random token holds both cases (or is hex).
    assert shown in problems(raw)


def test_a_path_in_a_message_is_shown() -> None:
    from mtasts.config.values import hide_tokens

    assert (
        hide_tokens("projects/acme-mail/mta-sts-2024/certs/ca.pem")
        == "projects/acme-mail/mta-sts-2024/certs/ca.pem"
    )


@pytest.mark.parametrize(
    "host", ["mx.example.com", "*.mail.protonmail.ch", "ghp.example.com", "nfp-mail.example.com"]
)
def test_a_host_without_a_token_is_named_as_written(host: str) -> None:
    assert f"'mx' entry '{host}' is listed twice; list each pattern once" in problems({"mx": [host, host]})


def test_the_component_never_shows_a_token_inside_an_argument() -> None:
    import pulumi
    from pulumi_mta_sts.validation import settings_from_args

    args = {"domain": "example.com", "hosting": "github-pages", "mx": [f"{GITHUB}.example.com"]}
    args["tls_rpt"] = [f"mailto:{NETLIFY}@example.com"] * 2
    with pytest.raises(pulumi.RunError) as raised:
        settings_from_args("shop", args)
    message = str(raised.value)
    assert not leaked(message, GITHUB) and not leaked(message, NETLIFY), message
    assert "tls_rpt entry 'mailto:" in message and "is listed twice" in message, message
    assert "mx entry" in message and "is not accepted" in message, message


def test_the_component_never_shows_a_token_in_arguments_that_are_no_mapping() -> None:
    import pulumi
    from pulumi_mta_sts.validation import settings_from_args

    with pytest.raises(pulumi.RunError) as raised:
        settings_from_args("shop", f"tls_rpt=mailto:{NETLIFY}@example.com")  # type: ignore[arg-type]
    assert not leaked(str(raised.value), NETLIFY) and "are not accepted" in str(raised.value)


def test_the_program_never_shows_a_token_inside_a_value(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, failing_stack: Callable[..., FailedRun]
) -> None:
    monkeypatch.chdir(tmp_path)
    failed = failing_stack({"domain": "example.com", "tlsRpt": [f"mailto:{NETLIFY}@example.com"] * 2})
    assert not leaked(str(failed.error), NETLIFY) and "is listed twice" in str(failed.error), failed.error
    assert failed.registered == []


def test_render_never_shows_a_token_inside_a_value(tmp_path: Path) -> None:
    (tmp_path / "Pulumi.test.yaml").write_text(
        "config:\n  mta-sts:domain: example.com\n  mta-sts:hosting: github-pages\n"
        f"  mta-sts:mx:\n    - mail.example.com {GITHUB}\n"
    )
    result = subprocess.run(
        [sys.executable, "-m", "mtasts", "--project-dir", str(tmp_path), "render", "--stack", "test"],
        capture_output=True,
        text=True,
        timeout=120,
        env={"PATH": "/usr/bin:/bin"},
        cwd=Path(__file__).resolve().parent.parent,
    )
    assert result.returncode == 2, result.stderr
    assert not leaked(result.stdout + result.stderr, GITHUB), result.stderr
    assert "'mx' entry 'mail.example.com " in result.stderr, result.stderr


_ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
tokens = st.one_of(
    st.builds(
        lambda prefix, body: prefix + body,
        st.sampled_from(["nfp_", "nfc_", "ghp_", "gho_", "ghu_", "ghs_", "ghr_"]),
        st.text(_ALNUM, min_size=36, max_size=40),
    ),
    st.text(_ALNUM + "_", min_size=82, max_size=82).map(lambda body: "github_pat_" + body),
    st.text(_ALNUM + "_-", min_size=20, max_size=20).map(lambda body: "glpat-" + body),
    # Cloudflare's shape: 40 random letters, digits, '_' and '-', so both cases and a digit.
    st.tuples(
        st.text(_ALNUM + "_-", min_size=37, max_size=37),
        st.sampled_from("abc"),
        st.sampled_from("XYZ"),
        st.sampled_from("0189"),
    )
    .flatmap(lambda parts: st.permutations([*parts[0], *parts[1:]]))
    .map("".join),
)
# Each refused whatever the token: listed twice, or holding what no host or URI may hold.
TEMPLATES: list[Callable[[str], dict[str, Any]]] = [
    lambda token: {"tlsRpt": [f"mailto:{token}@example.com"] * 2},
    lambda token: {
        "tlsRpt": [f"https://reports.example.com/{token}", f"https://REPORTS.example.com/{token}"]
    },
    lambda token: {"tlsRpt": [f"https://reports.example.com/{token},x"]},
    lambda token: {"tlsRpt": [f"mailto:tls@example.com?key={token}&x"]},
    lambda token: {"tlsRpt": f"mailto:{token}@example.com"},
    lambda token: {"mx": [f"{token}.example.com"] * 2},
    lambda token: {"mx": [f"mail.example.com {token}"]},
    lambda token: {"mx": [f"token={token}"]},
    lambda token: {"mx": [f'"{token}"']},
    lambda token: {"mx": [f"{token}.exämple.com"]},
    lambda token: {"mx": [f"mail.example.com:{token}"]},
    lambda token: {"proton": {**PROTON, "dmarcRua": [f"https://reports.example.com/{token}"]}},
    lambda token: {"proton": {**PROTON, "dkim": {**DKIM, "protonmail": f"{token} .proton.ch"}}},
    lambda token: {"proton": {**PROTON, "dkim": {**DKIM, "protonmail": f"d<code>.{token}.proton.ch"}}},
    lambda token: {"proton": {**PROTON, "spfIncludes": [f"include:{token}.example.net"] * 2}},
    lambda token: {"proton": {**PROTON, "verification": f"your-code-{token}"}},
    lambda token: {"tlsRpt": [f"mailto:tls@example.com {token}"]},
]


@settings(max_examples=300, deadline=None)
@given(token=tokens, template=st.sampled_from(TEMPLATES))
def test_no_refusal_shows_a_token_of_any_shape_inside_any_value(
    token: str, template: Callable[[str], dict[str, Any]]
) -> None:
    text = problems(template(token))
    assert not leaked(text, token), text


def test_only_the_token_of_a_value_is_hidden() -> None:
    with pytest.raises(ConfigError) as caught:
        parse_settings({**BASE, "tlsRpt": [f"mailto:{NETLIFY}@example.com"] * 2})
    assert caught.value.problems == [
        "'tlsRpt' entry 'mailto:(a part shaped like a token, not shown)@example.com' is not accepted: a "
        "report URI holds a part shaped like a Netlify, GitHub or GitLab token (not shown here), which the "
        "public TXT record shows to anyone; take the token out of the URI, and revoke it if the record "
        "was ever published (RFC 8460 §3)",
        "'tlsRpt' entry 'mailto:(a part shaped like a token, not shown)@example.com' is listed twice; "
        "list each URI once",
    ]


@pytest.mark.parametrize("token", [NETLIFY, GITHUB, GITHUB_PAT, GITLAB])
@pytest.mark.parametrize(
    "uri",
    [
        "mailto:tls-reports@example.com?subject={}",
        "https://reports.example.com/tlsrpt/{}",
        "https://reports.example.com/tlsrpt?key={}",
    ],
)
def test_a_report_uri_that_would_publish_a_token_is_refused_without_showing_it(uri: str, token: str) -> None:
    # Valid as a URI, so it was deployed: the TXT record then showed the token to anyone.
    said = problems({**BASE, "tlsRpt": [uri.format(token)]})
    assert "'tlsRpt' entry" in said and "token" in said and "revoke" in said
    assert not leaked(said, token)


def test_a_dmarc_report_uri_that_would_publish_a_token_is_refused() -> None:
    rua = [f"mailto:dmarc@example.com?subject={GITHUB}"]
    said = problems({**BASE, "proton": {**PROTON, "dmarcRua": rua}})
    assert "'proton.dmarcRua' entry" in said and "revoke" in said and not leaked(said, GITHUB)


def test_a_long_random_report_path_is_no_token() -> None:
    # Report endpoints use long random paths; only the prefixes credentials carry are refused.
    parse_settings({**BASE, "tlsRpt": ["https://reports.example.com/r/Zq3vY7kP0wXr9LmT2sJd8NfB5cHg4aE1"]})


def test_verify_says_a_live_record_publishes_a_token() -> None:
    from mtasts.rules import tlsrpt

    published = tlsrpt.judge([f"v=TLSRPTv1; rua=mailto:tls@example.com?subject={GITHUB}"])
    assert tlsrpt.URI_CREDENTIAL in {finding.code for finding in published.findings}
