"""`python -m mtasts render`: the desired state from a stack file, with no Pulumi CLI and no credentials."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import dns.zone
import pytest

from mtasts.config import ConfigError, parse_settings
from mtasts.desired import desired_state
from mtasts.stackfile import read_stack_file, settings_keys
from tests.pulumi_mocks import run_failing_program, run_program

PROJECT_DIR = Path(__file__).resolve().parent.parent


def render(project_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mtasts", "--project-dir", str(project_dir), "render", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env={"PATH": "/usr/bin:/bin"},  # no credentials, no Pulumi
        cwd=PROJECT_DIR,
    )


def write_stack(tmp_path: Path, body: str) -> Path:
    (tmp_path / "Pulumi.staging.yaml").write_text(body)
    return tmp_path


def test_render_prints_a_zone_file_that_a_dns_library_loads(tmp_path: Path) -> None:
    project = write_stack(
        tmp_path,
        "config:\n  mta-sts:domain: example.com\n  mta-sts:mode: enforce\n"
        "  mta-sts:tlsRpt:\n    - mailto:tls@example.com\n"
        "  mta-sts:netlifyToken:\n    secure: v1:AAAA\n",
    )
    result = render(project, "--stack", "staging")
    assert result.returncode == 0, result.stderr
    zone = dns.zone.from_text(result.stdout, origin="example.com.", check_origin=False)
    state = desired_state(
        parse_settings({"domain": "example.com", "mode": "enforce", "tlsRpt": ["mailto:tls@example.com"]})
    )
    discovery = zone.find_rdataset("_mta-sts", "TXT")
    assert [b"".join(r.strings).decode() for r in discovery] == [f"v=STSv1; id={state.policy_id}"]
    assert {str(r) for r in zone.find_rdataset("mta-sts", "MX")} == {"0 ."}
    for line in state.policy_text.splitlines():
        assert f";   {line}\n" in result.stdout


def test_render_reports_every_problem_and_exits_2(tmp_path: Path) -> None:
    project = write_stack(tmp_path, "config:\n  mta-sts:domain: bad\n  mta-sts:mode: strict\n")
    result = render(project, "--stack", "staging")
    assert result.returncode == 2
    assert "Pulumi.staging.yaml: 'domain' 'bad'" in result.stderr
    assert "'mode' 'strict'" in result.stderr
    assert result.stdout == ""


def test_render_names_the_stacks_that_exist_when_one_is_missing(tmp_path: Path) -> None:
    result = render(write_stack(tmp_path, "config:\n  mta-sts:domain: example.com\n"), "--stack", "prod")
    assert result.returncode == 2 and "stacks here: staging" in result.stderr


def test_every_example_stack_in_the_repository_renders() -> None:
    stacks = sorted(path.name[len("Pulumi.") : -len(".yaml")] for path in PROJECT_DIR.glob("Pulumi.*.yaml"))
    assert "dev" in stacks
    for stack in stacks:
        result = render(PROJECT_DIR, "--stack", stack)
        if stack == "proton":
            # Its verification code and DKIM targets are placeholders, refused with where to look.
            assert result.returncode == 2 and "Settings → Domain names" in result.stderr, result.stderr
            continue
        assert result.returncode == 0, (stack, result.stderr)


def test_the_proton_example_renders_once_its_placeholders_are_replaced(tmp_path: Path) -> None:
    import yaml

    from tests.proton_values import realistic

    document = yaml.safe_load((PROJECT_DIR / "Pulumi.proton.yaml").read_text())
    document["config"]["mta-sts:proton"] = realistic(document["config"]["mta-sts:proton"])
    (tmp_path / "Pulumi.proton.yaml").write_text(yaml.safe_dump(document))
    result = render(tmp_path, "--stack", "proton")
    assert result.returncode == 0 and "protonmail._domainkey" in result.stdout, result.stderr


def test_secure_values_are_not_read_as_settings(tmp_path: Path) -> None:
    project = write_stack(
        tmp_path, "config:\n  mta-sts:domain: example.com\n  mta-sts:netlifyToken:\n    secure: x\n"
    )
    assert "netlifyToken" not in settings_keys(read_stack_file("staging", project))


BASE_STACK = (
    "config:\n  mta-sts:domain: shop.example.net\n  mta-sts:mx: [mail.shop.example.net]\n"
    "  mta-sts:tlsRpt: [mailto:tls-reports@shop.example.net]\n  mta-sts:hosting: github-pages\n"
)


@pytest.mark.parametrize(
    ("key", "written", "given"),
    [
        # YAML 1.1 reads these as booleans and numbers; Pulumi hands the program the words.
        ("dnssec", "yes", "yes"),
        ("dnssec", "on", "on"),
        ("retire", "no", "no"),
        ("maxAge", "1:30", "1:30"),  # 5400 in YAML 1.1's base 60
        ("maxAge", "0o17", "0o17"),
        ("dnssec", "true", "true"),
        ("maxAge", "604800", "604800"),
        ("maxAge", "'604800'", "604800"),
        ("mode", "", ""),
        ("mode", "~", ""),
    ],
)
def test_render_reads_a_value_as_the_program_is_given_it_and_judges_it_the_same(
    tmp_path: Path, key: str, written: str, given: str
) -> None:
    (tmp_path / "Pulumi.t.yaml").write_text(f"{BASE_STACK}  mta-sts:{key}: {written}\n")

    read = settings_keys(read_stack_file("t", tmp_path))
    assert read[key] == given

    try:
        parse_settings(read)
    except ConfigError as refused:
        failed = str(run_failing_program(read).error)
        assert all(problem in failed for problem in refused.problems), failed
    else:
        run_program(read)


SECURE = "\n    secure: AAABAKsomeciphertext==\n"


def test_a_secret_setting_that_shapes_the_records_is_named_as_a_secret_render_cannot_read(
    tmp_path: Path,
) -> None:
    body = "config:\n  mta-sts:domain:" + SECURE + "  mta-sts:tlsRpt:" + SECURE + "  mta-sts:mode: strict\n"
    result = render(write_stack(tmp_path, body), "--stack", "staging")
    assert result.returncode == 2, result.stderr
    assert "'domain' is a secret in Pulumi.staging.yaml; render cannot read it" in result.stderr
    assert "'tlsRpt' is a secret in Pulumi.staging.yaml; render cannot read it" in result.stderr
    assert "'mode' 'strict' is not accepted" in result.stderr  # the other problems, all at once
    assert "'domain' is required" not in result.stderr and "tlsRpt is not set" not in result.stderr
    assert "AAABAK" not in result.stderr


def test_a_secret_zone_id_is_said_to_go_unchecked_and_render_goes_on(tmp_path: Path) -> None:
    body = "config:\n  mta-sts:domain: mail-owner.net\n  mta-sts:tlsRpt: [mailto:t@mail-owner.net]\n"
    result = render(write_stack(tmp_path, body + "  mta-sts:zoneId:" + SECURE), "--stack", "staging")
    assert result.returncode == 0, result.stderr
    assert "warning: 'zoneId' is a secret in Pulumi.staging.yaml; render cannot read it" in result.stderr
    assert "_mta-sts.mail-owner.net." in result.stdout


def test_a_misspelt_key_is_named_even_when_its_value_is_a_secret(tmp_path: Path) -> None:
    body = "config:\n  mta-sts:domain: mail-owner.net\n  mta-sts:netlifyTokn:" + SECURE
    result = render(write_stack(tmp_path, body), "--stack", "staging")
    assert result.returncode == 2 and "'netlifyTokn' is not a setting" in result.stderr, result.stderr
