"""A stack file is outside input: odd bytes, deep nesting, huge numbers, syntax errors beside a
plaintext token and `--stack` names that climb out of the project folder. Each ends in the
configuration error (exit 2 from the command line, a RunError in the program), never a
traceback, and no message quotes a line of the file or a value that may be a secret."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pulumi
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mtasts.config import ConfigError, parse_settings
from mtasts.config.values import SHOWN_CHARS, unknown_key
from mtasts.stackfile import StackFileError, load_settings, read_stack_file
from tests.pulumi_mocks import FailedRun

ROOT = Path(__file__).resolve().parent.parent
TOKEN = "nfp_Q7m2ZkP9xWv4LtR8sB3nYc6HdJ1aFgE5"
START = "config:\n  mta-sts:domain: example.com\n"
HOSTILE = {
    "a byte that is not UTF-8": (START + "  mta-sts:mode: enf\xffrce\n").encode("latin-1"),
    "50,000 levels of nesting": (START + "  mta-sts:mx: " + "[" * 50_000 + "]" * 50_000 + "\n").encode(),
    "a maxAge of 5,000 digits": (START + "  mta-sts:maxAge: " + "9" * 5_000 + "\n").encode(),
    "a syntax error on the token's line": (START + f"  mta-sts:netlifyToken: {TOKEN}: x\n").encode(),
    "a misspelt key with the token after its colon": (START + f"  mta-sts:netlifyTokn:{TOKEN}\n").encode(),
    "a mapping nested in a mapping too deep": (
        START
        + "  mta-sts:proton:\n"
        + "".join(f"{'  ' * depth}k{depth}:\n" for depth in range(2, 60))
        + "x\n"
    ).encode(),
}
LAUGHS = "".join(f"  l{n}: &l{n} [{', '.join([f'*l{n - 1}'] * 9)}]\n" for n in range(1, 10))
HOSTILE["aliases that stand for a billion values"] = (
    START + "  x: &l0 lol\n" + LAUGHS + "  mta-sts:mx: *l9\n"
).encode()
HOSTILE["a setting given twice"] = (
    START + "  mta-sts:mode: testing\n  mta-sts:domain: example.net\n"
).encode()
HOSTILE["a key given twice, deeper down"] = (
    START + "  mta-sts:proton:\n    dkim:\n      protonmail: a.example\n      protonmail: b.example\n"
).encode()
EXPECTED = {
    "a setting given twice": "sets 'mta-sts:domain' twice, at line 2 and at line 4; a key may appear once",
    "a key given twice, deeper down": "sets 'protonmail' twice, at line 5 and at line 6",
    "aliases that stand for a billion values": "uses a YAML alias (*name) at line 4",
    "a byte that is not UTF-8": "is not UTF-8 text: byte 0xff at line 3",
    "50,000 levels of nesting": "more than 32 levels deep at line 3",
    "a maxAge of 5,000 digits": "'maxAge' '999",
    "a syntax error on the token's line": "is not valid YAML at line 3",
    "a misspelt key with the token after its colon": "is not valid YAML at line 4",
    "a mapping nested in a mapping too deep": "more than 32 levels deep",
}


def run(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mtasts", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={"PATH": "/usr/bin:/bin"},
        cwd=cwd,
    )


@pytest.mark.parametrize("case", list(HOSTILE))
def test_render_answers_a_hostile_stack_file_with_the_configuration_error(tmp_path: Path, case: str) -> None:
    (tmp_path / "Pulumi.odd.yaml").write_bytes(HOSTILE[case])
    result = run("--project-dir", str(tmp_path), "render", "--stack", "odd")
    assert result.returncode == 2, result.stderr[-2000:]
    assert "Traceback" not in result.stderr
    assert EXPECTED[case] in result.stderr, result.stderr[:2000]
    assert TOKEN not in result.stderr and TOKEN[4:12] not in result.stderr
    assert len(result.stderr) < 2_000, "a hostile value is shown back in full"


@pytest.mark.parametrize("case", list(HOSTILE))
def test_the_program_answers_a_hostile_stack_file_with_a_run_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, failing_stack: Callable[..., FailedRun], case: str
) -> None:
    (tmp_path / "Pulumi.test.yaml").write_bytes(HOSTILE[case])
    monkeypatch.chdir(tmp_path)
    # The engine hands the program the values (the stack file gives only the keys' names).
    values = {"domain": "example.com", **({"maxAge": "9" * 5_000} if "maxAge" in case else {})}
    failed = failing_stack(values)
    assert isinstance(failed.error, pulumi.RunError), repr(failed.error)[:2000]
    assert failed.registered == []
    assert EXPECTED[case] in str(failed.error) and TOKEN not in str(failed.error)


def test_values_from_the_engine_nested_too_deep_or_too_long_are_named_and_cut() -> None:
    deep: list[object] = []
    for _ in range(200):
        deep = [deep]
    shared: list[object] = ["mail.example.com"]
    for _ in range(9):
        shared = [shared] * 9  # a billion leaves by reference, as a YAML parser's aliases build
    with pytest.raises(ConfigError, match="more than 10000 items"):
        parse_settings({"domain": "example.com", "proton": {"dkim": shared}})
    with pytest.raises(ConfigError) as caught:
        parse_settings({"domain": "example.com", "mx": deep, "maxAge": "9" * 5_000, "tlsRpt": "[" * 100_000})
    problems = caught.value.problems
    assert any(problem.startswith("'mx' nests lists or mappings more than 32 levels") for problem in problems)
    assert all(len(problem) < SHOWN_CHARS + 400 for problem in problems), problems


def test_a_misspelt_key_is_named_without_what_follows_its_colon() -> None:
    problem = unknown_key(f"netlifyTokn:{TOKEN}", ["netlifyToken", "domain"])
    assert problem.startswith("'netlifyTokn:…' is not a setting; did you mean 'netlifyToken'?")
    assert TOKEN[4:12] not in problem


def test_a_token_under_a_misspelt_key_is_never_shown(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, failing_stack: Callable[..., FailedRun]
) -> None:
    (tmp_path / "Pulumi.test.yaml").write_text(START + f"  mta-sts:netlifyTokn: {TOKEN}\n")
    monkeypatch.chdir(tmp_path)
    failed = failing_stack({"domain": "example.com", "netlifyTokn": TOKEN})
    assert "'netlifyTokn' is not a setting" in str(failed.error) and TOKEN not in str(failed.error)
    result = run("--project-dir", str(tmp_path), "render", "--stack", "test")
    assert result.returncode == 2 and "'netlifyTokn' is not a setting" in result.stderr
    assert TOKEN not in result.stderr


@pytest.fixture
def climbing_project(tmp_path: Path) -> tuple[Path, str]:
    """A project folder whose `--stack x/../../outside` would name a valid stack file beside it."""
    project = tmp_path / "project"
    (project / "Pulumi.x").mkdir(parents=True)
    (tmp_path / "outside.yaml").write_text(START)
    return project, "x/../../outside"


@pytest.mark.parametrize(
    "command",
    [["render"], ["verify", "example.com", "--nameserver", "127.0.0.1", "--timeout", "1"], ["reports", "."]],
)
def test_every_command_refuses_a_stack_name_that_is_a_path(
    climbing_project: tuple[Path, str], command: list[str]
) -> None:
    project, stack = climbing_project
    result = run("--project-dir", str(project), *command, "--stack", stack, cwd=project)
    assert result.returncode == 2, result.stdout + result.stderr
    assert "is not a stack name; expected a plain Pulumi stack name" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("stack", ["..", ".", "a/b", "a b", "dev\n", "", "x" * 101, "../dev"])
def test_only_plain_stack_names_name_a_stack_file(stack: str) -> None:
    with pytest.raises(StackFileError, match="is not a stack name"):
        read_stack_file(stack, ROOT)


def test_plain_stack_names_still_name_their_files() -> None:
    assert read_stack_file("dev", ROOT)["mta-sts:domain"]


GITHUB_TOKEN = "github_pat_11ABCDEFG0abcdefghijklmnopqrstuvwxyz"
CLOUDFLARE_TOKEN = "Zq3vY7kP0wXr9LmT2sJd8NfB5cHg4aE1uViO6yRt"


@pytest.mark.parametrize(
    "raw",
    [
        {"mode": TOKEN},
        {"zoneId": CLOUDFLARE_TOKEN},
        {"mx": TOKEN},
        {"mx": [TOKEN]},
        {"tlsRpt": [GITHUB_TOKEN]},
        {"proton": TOKEN},
        {"proton": {"verification": "abc", "dkim": {}, "dmarcRua": [TOKEN]}},
        {"hosting": ["netlify", GITHUB_TOKEN]},
    ],
    ids=lambda raw: next(iter(raw)),
)
def test_a_token_pasted_under_the_wrong_setting_is_never_shown(raw: dict[str, object]) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_settings({"domain": "example.com", **raw})
    text = str(caught.value).lower()
    assert not any(secret.lower()[:12] in text for secret in (TOKEN, GITHUB_TOKEN, CLOUDFLARE_TOKEN)), text
    assert "not shown" in text


yamlish = st.text(
    st.sampled_from(list("config:mta-s \n-[]{}'\"#&*!|>%@`,?0123456789.ex\t\\\xff\u00e9")), max_size=300
)


@settings(max_examples=300, deadline=None)
@given(body=st.one_of(st.binary(max_size=300), yamlish.map(lambda text: (START + text).encode("utf-8"))))
def test_any_stack_file_ends_in_settings_or_the_configuration_error(
    tmp_path_factory: Any, body: bytes
) -> None:
    project = tmp_path_factory.mktemp("stack")
    (project / "Pulumi.any.yaml").write_bytes(body)
    try:
        load_settings("any", project)
    except (StackFileError, ConfigError) as error:
        assert "Traceback" not in str(error) and len(str(error)) < 20_000


def test_a_stack_file_that_is_a_fifo_is_refused_without_waiting(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "Pulumi.pipe.yaml")
    result = run("--project-dir", str(tmp_path), "render", "--stack", "pipe")
    assert result.returncode == 2 and "is not a regular file" in result.stderr, result.stderr


@pytest.mark.parametrize(
    ("key", "shown"),
    [
        (f"netlifyToken={TOKEN}", "'netlifyToken=…'"),  # `pulumi config set key=value`
        (f"netlifyToken {TOKEN}", "'netlifyToken …'"),
        (TOKEN, "'(a key shaped like a token, not shown)'"),
        (f"x{TOKEN[4:]}", "'(a key shaped like a token, not shown)'"),
        ("bad\x1b[31mred\n", "'bad\\x1b[31mred\\n…'"),
    ],
)
def test_a_key_is_shown_without_what_may_be_a_token_in_it(key: str, shown: str) -> None:
    problem = unknown_key(key, ["netlifyToken", "domain"])
    assert problem.startswith(f"{shown} is not a setting"), problem
    assert TOKEN[4:12] not in problem and "\x1b" not in problem


def test_a_key_written_with_its_value_says_a_key_holds_only_the_name() -> None:
    problem = unknown_key(f"netlifyToken={TOKEN}", ["netlifyToken", "domain"])
    assert "did you mean 'netlifyToken'" in problem and "value" in problem, problem


@pytest.mark.parametrize(
    "proton_key",
    [
        {"dkim": {"protonmail": "a.b", "protonmail2": "a.b", "protonmail3": "a.b", TOKEN: "x"}},
        {"dkim": {"protonmail": "a.b", "protonmail2": "a.b", "protonmail3": "a.b", "bad\x1b[31m": "x"}},
        {TOKEN: "x"},
    ],
)
def test_proton_keys_are_shown_without_tokens_or_control_characters(proton_key: dict[str, Any]) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_settings({"domain": "example.com", "proton": {"verification": "abc123", **proton_key}})
    assert TOKEN[4:12] not in str(caught.value) and "\x1b" not in str(caught.value), caught.value


@pytest.mark.parametrize(
    ("line", "command"),
    [
        (f"  mta-sts:netlifyToken={TOKEN}: x\n", None),
        (f"  github:token {TOKEN}: x\n", "`scripts/pulumi config set --secret github:token --stack test`"),
        (f"  github:{TOKEN}: x\n", None),
    ],
)
def test_render_never_shows_a_token_written_into_a_key(
    tmp_path: Path, line: str, command: str | None
) -> None:
    (tmp_path / "Pulumi.test.yaml").write_text(START + "  mta-sts:hosting: github-pages\n" + line)
    result = run("--project-dir", str(tmp_path), "render", "--stack", "test")
    assert TOKEN[4:12] not in result.stdout + result.stderr, result.stderr
    assert "Traceback" not in result.stderr
    if command:
        assert result.returncode == 0 and command in result.stderr, result.stderr
    if line.startswith("  github:"):
        assert "written in plain text" in result.stderr, result.stderr


def test_the_program_never_shows_a_token_written_into_a_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, failing_stack: Callable[..., FailedRun]
) -> None:
    key = f"netlifyToken={TOKEN}"
    (tmp_path / "Pulumi.test.yaml").write_text(START + f"  mta-sts:{key}: x\n")
    monkeypatch.chdir(tmp_path)
    failed = failing_stack({"domain": "example.com", key: "x"})
    assert "'netlifyToken=…' is not a setting" in str(failed.error) and TOKEN[4:12] not in str(failed.error)


def test_the_program_names_a_misspelt_key_whose_value_is_a_secret_as_render_does(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, failing_stack: Callable[..., FailedRun]
) -> None:
    (tmp_path / "Pulumi.test.yaml").write_text(START + "  mta-sts:netlifyTokn:\n    secure: v1:AAAA\n")
    monkeypatch.chdir(tmp_path)
    failed = failing_stack({"domain": "example.com", "netlifyTokn": TOKEN})  # the engine decrypts it
    assert "'netlifyTokn' is not a setting" in str(failed.error) and TOKEN not in str(failed.error)
    assert failed.registered == []
