"""Configuration messages a newcomer meets: a misspelt key, a missing namespace, a list written as a
string, a DKIM selector too many or too few, a placeholder from the example stack. The core, the
program (under mocks) and `render` (reading the stack file) give the same words."""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from mtasts.config import ConfigError, parse_settings
from mtasts.config.values import SHOWN_CHARS, show
from tests.proton_values import DKIM, VERIFICATION
from tests.pulumi_mocks import FailedRun

BASE = {"domain": "example.com"}
PROTON = {"verification": VERIFICATION, "dkim": DKIM}
FailingRun = Callable[..., FailedRun]


def problems(raw: dict[str, Any]) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        parse_settings(raw)
    return caught.value.problems


def render(project: Path, stack: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mtasts", "--project-dir", str(project), "render", "--stack", stack],
        capture_output=True,
        text=True,
        timeout=60,
        env={"PATH": "/usr/bin:/bin"},
        cwd="/",  # the package finds Pulumi.yaml beside itself, not in the working directory
    )


def test_a_misspelt_key_suggests_the_closest_setting() -> None:
    assert problems({**BASE, "tlsrpt": ["mailto:a@example.com"]}) == [
        "'tlsrpt' is not a setting; did you mean 'tlsRpt'?"
    ]


def test_a_misspelt_proton_key_suggests_the_closest_one() -> None:
    [problem] = problems({**BASE, "proton": {**PROTON, "dmarcrua": ["mailto:d@example.com"]}})
    assert problem == "'proton.dmarcrua' is not a setting; did you mean 'proton.dmarcRua'?"


def test_a_key_like_no_setting_lists_the_settings() -> None:
    [problem] = problems({**BASE, "colour": "blue"})
    assert problem.startswith("'colour' is not a setting; known settings: adopt, dnssec, domain")


def test_a_list_given_as_a_string_says_it_must_be_a_list_with_the_path_command() -> None:
    [problem] = problems({**BASE, "tlsRpt": "mailto:tls@example.com"})
    assert problem == (
        "'tlsRpt' must be a list, not the string 'mailto:tls@example.com'; set it with "
        "`scripts/pulumi config set --path 'tlsRpt[0]' mailto:tls@example.com` "
        "(and 'tlsRpt[1]' for a second entry)"
    )


def test_a_nested_list_given_as_a_string_gets_its_nested_path() -> None:
    [problem] = problems({**BASE, "proton": {**PROTON, "spfIncludes": "_spf.example.net"}})
    assert "`scripts/pulumi config set --path 'proton.spfIncludes[0]' _spf.example.net`" in problem


@pytest.mark.parametrize(
    ("dkim", "expected"),
    [
        (
            {"protonmail": DKIM["protonmail"], "protonmail2": DKIM["protonmail2"]},
            "the selector protonmail3 is missing",
        ),
        ({**DKIM, "protonmail4": DKIM["protonmail"]}, "protonmail4 is not a selector Proton uses"),
        ({"protonmail": DKIM["protonmail"]}, "the selectors protonmail2, protonmail3 are missing"),
    ],
)
def test_proton_dkim_names_the_missing_or_extra_selector(dkim: dict[str, str], expected: str) -> None:
    [problem] = problems({**BASE, "proton": {**PROTON, "dkim": dkim}})
    assert problem.startswith("'proton.dkim': " + expected), problem


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ({"dnssec": "yes"}, "'dnssec' 'yes' is not accepted"),
        ({"maxAge": True}, "'maxAge' true is not accepted"),
        ({"mode": None}, "'mode' null is not accepted"),
        ({"mx": {"primary": "mail.example.com"}}, "'mx' {primary: mail.example.com} is not accepted"),
        ({"proton": ["verification"]}, "'proton' [verification] is not accepted"),
        ({"readinessTimeout": 1.5}, "'readinessTimeout' 1.5 is not accepted"),
    ],
)
def test_messages_show_values_as_yaml_writes_them(raw: dict[str, Any], shown: str) -> None:
    [problem] = problems({**BASE, **raw})
    assert problem.startswith(shown), problem


PYTHON_WORDS = re.compile(r"\b(None|True|False)\b")
bad_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(10**30), 10**30)
    | st.floats(allow_nan=False)
    | st.text(st.characters(codec="ascii", exclude_categories=["Cc"]), max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=6,
)
KEYS = ["mode", "maxAge", "mx", "tlsRpt", "hosting", "dnssec", "proton", "zoneId"]


@settings(max_examples=150, deadline=None)
@given(key=st.sampled_from(KEYS), value=bad_values)
def test_no_message_shows_a_python_repr(key: str, value: Any) -> None:
    try:
        parse_settings({**BASE, key: value})
    except ConfigError as error:
        if not PYTHON_WORDS.search(str(yaml.safe_dump(value))):
            for problem in error.problems:
                assert not PYTHON_WORDS.search(problem), problem


@settings(max_examples=200, deadline=None)
@given(value=bad_values)
def test_a_shown_value_reads_back_as_the_same_yaml_unless_cut_with_its_length(value: Any) -> None:
    shown = show(value)
    if shown.endswith(" characters)") and len(shown) > SHOWN_CHARS:
        assert re.fullmatch(rf".{{{SHOWN_CHARS}}}…\(\+[\d,]+ characters\)", shown, re.DOTALL), shown
    else:
        assert yaml.safe_load(shown) == value


@pytest.mark.parametrize("value", ["evil\u202egro.elpmaxe", ["a\u2066b"], {"k": "zero\u200bwidth"}])
def test_a_shown_value_escapes_bidi_overrides_and_format_characters(value: Any) -> None:
    shown = show(value)
    assert shown.isprintable(), shown
    assert yaml.safe_load(shown) == value


# --- Placeholders ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("verification", "REPLACE-WITH-THE-CODE-FROM-PROTON"),
        ("verification", "<verification code>"),
        ("verification", "xxxxxxxxxxxxxxxx"),
        ("verification", "0123456789abcdef0123456789abcdef01234567"),
        ("verification", "3c1b8e0f5d2a4c6e8a0b2d4f6a8c0e2b4d6f8a0c"),  # an earlier example file's
        ("protonmail2", "protonmail2.domainkey.dexample0123456789.domains.proton.ch"),
        ("protonmail3", "protonmail3.domainkey.YOUR-DOMAIN-KEY.domains.proton.ch"),
    ],
)
def test_placeholder_proton_values_are_refused_with_where_to_find_the_real_ones(
    field: str, value: str
) -> None:
    proton = {**PROTON, "dkim": dict(DKIM)}
    if field == "verification":
        proton["verification"] = value
        where = "Settings → Domain names → your domain → Verify"
    else:
        proton["dkim"][field] = value
        where = "Settings → Domain names → your domain → DKIM"
    [problem] = problems({**BASE, "proton": proton})
    assert "is a placeholder" in problem and where in problem, problem


def test_realistic_proton_values_are_not_taken_for_placeholders() -> None:
    assert parse_settings({**BASE, "proton": PROTON}).proton is not None


def test_the_program_refuses_the_example_stacks_placeholders_before_registering_anything(
    failing_stack: FailingRun,
) -> None:
    from mtasts.stackfile import read_stack_file, settings_keys
    from tests.pulumi_mocks import PROJECT_DIR

    failed = failing_stack(settings_keys(read_stack_file("proton", PROJECT_DIR)))
    assert failed.registered == []
    assert str(failed.error).count("is a placeholder") == 4 and "Settings → Domain names" in str(failed.error)


# --- The same words from the stack file: render and the program -----------------------------

STACK_FILE = {
    "config": {
        "mta-sts:domain": "example.com",
        "mta-sts:tlsrpt": ["mailto:tls@example.com"],
        "hosting": "github-pages",
        "mta-sts:mx": "mail.example.com",
    }
}
EXPECTED = [
    "'hosting' in Pulumi.test.yaml has no namespace; write it as "
    "'mta-sts:hosting' (`scripts/pulumi config set hosting ... --stack test` adds the namespace)",
    "'tlsrpt' is not a setting; did you mean 'tlsRpt'?",
    "'mx' must be a list, not the string 'mail.example.com'; set it with "
    "`scripts/pulumi config set --path 'mx[0]' mail.example.com --stack test`",
]


def test_render_names_a_misspelt_key_a_missing_namespace_and_a_string_list(tmp_path: Path) -> None:
    (tmp_path / "Pulumi.test.yaml").write_text(yaml.safe_dump(STACK_FILE))
    result = render(tmp_path, "test")
    assert result.returncode == 2
    for expected in EXPECTED:
        assert expected in result.stderr, result.stderr


def test_the_program_gives_the_same_messages_from_the_stack_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, failing_stack: FailingRun
) -> None:
    (tmp_path / "Pulumi.test.yaml").write_text(yaml.safe_dump(STACK_FILE))
    monkeypatch.chdir(tmp_path)  # the program runs in the project folder, beside the stack file
    config = {
        key.removeprefix("mta-sts:"): value for key, value in STACK_FILE["config"].items() if ":" in key
    }
    failed = failing_stack(config)
    assert failed.registered == []
    for expected in EXPECTED:
        assert expected in str(failed.error), str(failed.error)


def test_a_setting_written_in_another_namespace_is_named_with_the_one_to_use() -> None:
    from mtasts.config import schema
    from mtasts.config.values import namespace_problems

    [problem] = namespace_problems(["mtasts:tlsRpt", "aws:region"], schema.declared(), "Pulumi.dev.yaml")
    assert problem.startswith(
        "'mtasts:tlsRpt' in Pulumi.dev.yaml is in the 'mtasts' namespace; write it as 'mta-sts:tlsRpt'"
    )
