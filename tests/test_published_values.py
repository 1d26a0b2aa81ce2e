"""Every value is clean before it is published, and every bad value gets the clean configuration
error, listed with the others: never a traceback, whatever the stack file or config holds."""

from __future__ import annotations

import json
import re
from typing import Any

import pulumi
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mtasts.__main__ import main
from mtasts.config import ConfigError, parse_settings
from mtasts.desired import desired_state
from mtasts.names import malformed_a_label
from mtasts.rules import published
from tests.proton_values import DKIM, VERIFICATION
from tests.pulumi_mocks import run_program

BASE = {"domain": "example.com"}
PROTON = {"verification": VERIFICATION, "dkim": DKIM}
GITHUB_NAME = re.compile(r"[A-Za-z0-9._-]{1,100}")


def problems(raw: dict[str, Any]) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        parse_settings(raw)
    return caught.value.problems


@pytest.mark.parametrize(
    ("raw", "fix"),
    [
        ({"tlsRpt": ["mailto:tls@bücher.example"]}, "write it as mailto:tls@xn--bcher-kva.example"),
        ({"tlsRpt": ["https://bücher.example/tls"]}, "write it as https://xn--bcher-kva.example/tls"),
        ({"mx": ["mail.bücher.example"]}, "write it as mail.xn--bcher-kva.example"),
        ({"domain": "bücher.example"}, "write it as 'xn--bcher-kva.example'"),
        (
            {"proton": {**PROTON, "spfIncludes": ["_spf.bücher.example"]}},
            "write it as _spf.xn--bcher-kva.example",
        ),
    ],
)
def test_a_unicode_host_part_is_refused_with_its_a_label(raw: dict[str, Any], fix: str) -> None:
    [problem] = problems({**BASE, **raw})
    assert fix in problem, problem


@pytest.mark.parametrize(
    ("host", "label"),
    [
        ("Mail.Example.COM", "mail.example.com"),  # ASCII: lowered, idna not consulted
        ("_spf.Bücher.example", "_spf.xn--bcher-kva.example"),
        ("a\u200db.example", None),  # idna refuses a joiner out of context (an IDNAError)
        ("☃.com", None),
        ("ü" * 64 + ".com", None),  # longer than a label may be once encoded
    ],
)
def test_a_label_converts_unicode_labels_and_is_none_where_idna_refuses(host: str, label: str | None) -> None:
    assert published.a_label(host) == label


# Labels that claim to be A-labels and are not (RFC 5890 §2.3.2.1, RFC 3492): not Punycode at
# all, or Punycode of control characters. (`xn--` and `xn--abc-`, ending in a hyphen, are no
# host name to begin with, and refused as that.)
MALFORMED = ["xn--zz", "xn--9", "xn--abc", "xn--mail", "xn--a"]


@pytest.mark.parametrize("label", MALFORMED)
@pytest.mark.parametrize(
    "raw",
    [
        {"domain": "{label}.example"},
        {"mx": ["mail.{label}.example"]},
        {"mx": ["*.{label}.example"]},
        {"tlsRpt": ["mailto:tls@{label}.example"]},
        {"tlsRpt": ["https://{label}.example/tls"]},
        {"proton": {**PROTON, "spfIncludes": ["_spf.{label}.example"]}},
    ],
    ids=["domain", "mx", "mx-wildcard", "mailto", "https", "spf-include"],
)
def test_a_label_that_is_no_punycode_is_refused_with_the_fix(raw: dict[str, Any], label: str) -> None:
    filled = json.loads(json.dumps(raw).replace("{label}", label.upper()))

    [problem] = problems({**BASE, **filled})

    assert label in problem.lower(), problem
    assert "no A-label" in problem and "write the A-label your registrar shows" in problem, problem


@pytest.mark.parametrize(
    "host",
    [
        "xn--bcher-kva.example",
        "XN--BCHER-KVA.example",  # A-labels are compared without case
        "xn--80ak6aa92e.com",  # Cyrillic
        "xn--ls8h.la",  # an emoji label: IDNA 2008 disallows it, DNS serves it
        "xn--mgbh0fb.example",  # Arabic, with a joiner-free script run
        "bxn--a.example",  # `xn--` only as a prefix marks an A-label
    ],
)
def test_a_well_formed_a_label_is_accepted_wherever_a_host_is(host: str) -> None:
    settings = parse_settings({"domain": host, "mx": [f"mail.{host}"], "tlsRpt": [f"mailto:tls@{host}"]})
    assert settings.domain == host.lower()


@given(st.text(st.characters(codec="utf-8", categories=["L", "M", "N"]), min_size=1, max_size=20))
def test_the_a_label_of_any_unicode_label_idna_encodes_is_accepted(label: str) -> None:
    encoded = published.a_label(f"{label}.example")
    if encoded is not None:
        assert malformed_a_label(encoded) is None, encoded


@pytest.mark.parametrize(
    "raw",
    [
        {"mx": ["mail.exa\nmple.com"]},
        {"mx": ["mail example.com"]},
        {"tlsRpt": ["mailto:tls@example.com\r\nBcc: x@example.net"]},
        {"tlsRpt": ["mailto:tls@exa\x00mple.com"]},
        {"tlsRpt": ["https://[::1/tls"]},
        {"tlsRpt": ["https://reports.example.com/a b"]},
        {"proton": {**PROTON, "dkim": {**DKIM, "protonmail": "protonmail.domainkey.d1\t.domains.proton.ch"}}},
        {"repository": "mta-sts\nexample"},
        {"repository": "a" * 101},
    ],
)
def test_control_characters_spaces_and_malformed_urls_are_refused_cleanly(raw: dict[str, Any]) -> None:
    assert problems({**BASE, **raw})


def test_every_published_value_of_a_valid_stack_is_printable_ascii() -> None:
    state = desired_state(parse_settings({**BASE, "tlsRpt": ["mailto:tls@example.com"], "proton": PROTON}))
    for record in state.records:
        assert not published.printable(record.name, "name") and not published.printable(
            record.value.replace(" ", ""), "v"
        )
    for path, text in state.files.items():
        assert path.isascii() and text.isascii() and "\r" not in text


def long_domain(length: int) -> str:
    """A valid domain of exactly `length` characters, in labels of at most 63."""
    labels, rest = [], length - len(".com")
    while rest > 0:
        size = min(63, rest) if rest != 64 else 62
        labels.append("a" * size)
        rest -= size + 1
    domain = ".".join(labels) + ".com"
    return domain[len(domain) - length :] if len(domain) > length else domain


def test_the_longest_derived_name_is_held_to_253_characters() -> None:
    fits = long_domain(253 - len("_smtp._tls."))
    assert len(f"_smtp._tls.{fits}") == 253
    parse_settings({"domain": fits})  # every name of a stack without Proton fits
    found = problems({"domain": fits, "proton": PROTON})
    assert any(f"protonmail3._domainkey.{fits}" in p and "more than DNS allows (253)" in p for p in found)
    too_long = long_domain(253 - len("_smtp._tls.") + 1)
    assert any(f"_smtp._tls.{too_long}" in p for p in problems({"domain": too_long}))


def test_the_default_repository_name_is_shortened_deterministically_to_fit_github() -> None:
    first, second = long_domain(200), "b" + long_domain(200)[1:]
    names = [parse_settings({"domain": d}).repository for d in (first, second, first)]
    assert all(GITHUB_NAME.fullmatch(name) and len(name) <= 100 for name in names)
    assert names[0] == names[2] != names[1]
    assert parse_settings(BASE).repository == "mta-sts-example-com"


# --- Property: nothing but the clean error, over the whole program and the stack file -------

keys = st.sampled_from(
    [
        "domain",
        "mode",
        "maxAge",
        "mx",
        "tlsRpt",
        "hosting",
        "repository",
        "zoneId",
        "readinessTimeout",
        "proton",
        "dnssec",
        "adopt",
        "retire",
        "tlsrpt",
        "colour",
    ]
)
scalars = (
    st.none()
    | st.booleans()
    | st.integers(-(10**40), 10**40)
    | st.floats()
    | st.text(max_size=20)
    | st.sampled_from(
        [
            "https://[::1",
            "mailto:",
            "https://",
            "mailto:@",
            "enforce",
            "testing",
            "example.com",
            "*.",
            "*",
            "mailto:a@b.c",
            "https://x.example/\n",
            "0" * 40,
            "github-pages",
            "netlify",
        ]
    )
)
values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(
            st.text(max_size=12) | st.integers() | st.sampled_from(["verification", "dkim", "protonmail"]),
            inner,
            max_size=3,
        )
    ),
    max_leaves=8,
)
configs = st.dictionaries(keys, values, max_size=5).map(lambda raw: {"domain": "example.com", **raw})


def clean_error(error: BaseException) -> bool:
    return isinstance(error, pulumi.RunError) and str(error).startswith("invalid mta-sts configuration:")


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(config=configs)
def test_the_program_accepts_a_config_or_refuses_it_with_the_clean_error(
    config: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NETLIFY_AUTH_TOKEN", "test-netlify-token-not-a-secret")
    try:
        run_program(config)
    except Exception as error:
        assert clean_error(error), f"{type(error).__name__}: {error}"


stack_keys = (
    st.text(max_size=12)
    | st.integers()
    | st.booleans()
    | st.none()
    | st.sampled_from(
        ["mta-sts:domain", "mta-sts:mx", "mta-sts:proton", "mta-sts:tlsrpt", "domain", "mode", "other:key"]
    )
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(config=st.dictionaries(stack_keys, values, max_size=6))
def test_render_reads_any_stack_file_into_settings_or_the_clean_error(
    config: dict[Any, Any], tmp_path_factory: pytest.TempPathFactory, capsys: pytest.CaptureFixture[str]
) -> None:
    project = tmp_path_factory.mktemp("stack")
    (project / "Pulumi.odd.yaml").write_text(yaml.safe_dump({"config": config}))
    status = main(["--project-dir", str(project), "render", "--stack", "odd"])
    err = capsys.readouterr().err
    assert status in (0, 2) and (status == 0 or err.startswith("error: ")), err


@given(st.text(st.sampled_from("abcdefghijklmnopqrstuvwxyz0123456789-"), max_size=59))
def test_any_label_after_xn_dashes_is_judged_without_an_error(body: str) -> None:
    found = malformed_a_label(f"mail.xn--{body}.example")
    assert found in (None, f"xn--{body}")
