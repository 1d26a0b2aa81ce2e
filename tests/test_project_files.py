"""The README's configuration table, Pulumi.yaml and the core agree; CI runs the README's command."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from mtasts.config import ConfigError, parse_settings

ROOT = Path(__file__).resolve().parent.parent
PROJECT = yaml.safe_load((ROOT / "Pulumi.yaml").read_text())
DECLARED: dict[str, dict] = PROJECT["config"]
README = (ROOT / "README.md").read_text()


def readme_config_rows() -> dict[str, list[str]]:
    section = README.split("## Configuration", 1)[1].split("\n## ", 1)[0]
    rows = {}
    for line in section.splitlines():
        match = re.match(r"^\| `([A-Za-z]+)` \|(.*)\|$", line)
        if match:
            rows[match.group(1)] = [cell.strip() for cell in match.group(2).split("|")]
    return rows


def test_readme_table_lists_exactly_the_keys_pulumi_yaml_declares() -> None:
    assert set(readme_config_rows()) == set(DECLARED)


def test_every_declared_key_has_a_type_and_a_description() -> None:
    for key, spec in DECLARED.items():
        assert spec.get("type") in {"string", "integer", "boolean", "array", "object"}, key
        assert len(spec.get("description", "")) > 20, key


@pytest.mark.parametrize("key", sorted(DECLARED))
def test_every_declared_key_is_a_setting_the_core_knows(key: str) -> None:
    try:
        parse_settings({"domain": "example.com", key: DECLARED[key].get("default", "x")})
    except ConfigError as error:
        assert not any("is not a setting" in problem for problem in error.problems), error.problems


def test_declared_defaults_are_the_core_defaults_and_the_readme_defaults() -> None:
    settings = parse_settings({"domain": "example.com"})
    core = {
        "mode": settings.mode.value,
        "maxAge": settings.max_age,
        "mx": list(settings.mx),
        "hosting": settings.hosting.value,
        "readinessTimeout": settings.readiness_timeout,
    }
    rows = readme_config_rows()
    for key, value in core.items():
        assert DECLARED[key]["default"] == value, key
        shown = rows[key][1]
        expected = f"`[{', '.join(value)}]`" if isinstance(value, list) else f"`{value}`"
        assert shown == expected, (key, shown)


def test_readme_types_match_pulumi_yaml() -> None:
    words = {
        "string": "string",
        "integer": "integer",
        "array": "list of strings",
        "boolean": "boolean",
        "object": "object",
    }
    for key, cells in readme_config_rows().items():
        spec = DECLARED[key]
        expected = ("secret " if spec.get("secret") else "") + words[spec["type"]]
        assert cells[0] == expected, key


def test_readme_gives_the_two_set_up_commands_and_ci_runs_the_test_one() -> None:
    assert "scripts/deploy example-com " in README and "scripts/test " in README
    assert "scripts/pulumi " in README
    ci = (ROOT / ".ci/run").read_text()
    assert re.search(r"^exec scripts/test\b", ci, re.MULTILINE)


def tracked_text_files() -> list[Path]:
    import subprocess

    names = (
        subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True)
        .stdout.decode()
        .split("\0")
    )
    return [ROOT / name for name in names if name and (ROOT / name).is_file()]


def tracked_texts() -> list[tuple[Path, str]]:
    texts = []
    for path in tracked_text_files():
        if "node_modules" in path.parts:
            continue
        try:
            texts.append((path, path.read_text(encoding="utf-8")))
        except UnicodeDecodeError:
            continue  # binary data (a gzip report)
    return texts


TOP_LEVEL = sorted({path.relative_to(ROOT).parts[0] for path in tracked_text_files() if path.parent != ROOT})
# `docs/verify.md`, `tests/data/rules/*.yaml`, `scripts/pulumi`: a path starting at one of the
# repository's own folders.
_FOLDERS = "|".join(map(re.escape, TOP_LEVEL))
MENTION = re.compile(rf"(?<![\w./~$-])((?:{_FOLDERS})/[\w./*-]*[\w/*])")
# A path named right after another project is that project's file (checkdmarc's
# `tests/test_mta_sts.py`), not this repository's.
OTHER_PROJECT = re.compile(
    r"checkdmarc|postfix-mta-sts-resolver|pulumi/|boilerplate|policy-packs|cosmicpython"
)
MARKDOWN_LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")
# `../x`, `a/../../b`: resolved against the file's folder, it must stay inside the repository.
CLIMB = re.compile(r"(?<![\w.-])((?:[\w.-]+/)*\.\./(?:[\w.*-]+/?)*)")
ABSOLUTE = re.compile(r"(?<![\w.:/~$}%-])(/[A-Za-z][\w.-]*)(?:/[\w.-]+)+")
# Folders every Unix system has (FHS): a command may name /usr/bin or /dev/null.
SYSTEM_FOLDERS = {
    "/usr",
    "/bin",
    "/sbin",
    "/etc",
    "/dev",
    "/proc",
    "/sys",
    "/run",
    "/var",
    "/tmp",
    "/lib",
    "/lib64",
}


def inside(path: Path) -> bool:
    return path.resolve().is_relative_to(ROOT)


def test_every_repository_path_a_file_mentions_exists() -> None:
    missing = []
    for path, text in tracked_texts():
        for match in MENTION.finditer(text):
            target = match.group(1).rstrip(".")
            if OTHER_PROJECT.search(text[max(0, match.start() - 80) : match.start()]):
                continue
            if not (any(ROOT.glob(target)) if "*" in target else (ROOT / target).exists()):
                line = text.count("\n", 0, match.start()) + 1
                missing.append(f"{path.relative_to(ROOT)}:{line}: {target}")
    assert not missing, "\n".join(missing)


def test_every_relative_link_in_the_docs_resolves_inside_the_repository() -> None:
    broken = []
    for path, text in tracked_texts():
        if path.suffix != ".md":
            continue
        for link in MARKDOWN_LINK.findall(text):
            target = link.split("#", 1)[0]
            if not target or re.match(r"[a-z][a-z0-9+.-]*:", target):
                continue  # an anchor in the same page, or a URL
            resolved = path.parent / target
            if not inside(resolved) or not resolved.exists():
                broken.append(f"{path.relative_to(ROOT)}: {link}")
    assert not broken, "\n".join(broken)


def test_no_tracked_file_reaches_outside_the_repository() -> None:
    """A clone on GitHub or a user's machine has only this repository: no path climbs out of it,
    and none is an absolute path of the machine it was written on (a folder this machine has at
    its root beyond the system's own, or one holding this checkout or the home folder)."""
    # A system folder above the checkout (a clone in /tmp) names no machine: only what is below it.
    machine = {
        str(folder)
        for folder in (*ROOT.parents, Path.home())
        if folder != Path("/") and str(folder) not in SYSTEM_FOLDERS
    }
    offenders = []
    for path, text in tracked_texts():
        where = path.relative_to(ROOT)
        for match in CLIMB.finditer(text):
            if not inside(path.parent / match.group(1)):
                offenders.append(f"{where}: {match.group(1)} leaves the repository")
        for match in ABSOLUTE.finditer(text):
            first, whole = match.group(1), match.group(0)
            local = first not in SYSTEM_FOLDERS and Path(first).is_dir()
            if local or any(whole == folder or whole.startswith(folder + "/") for folder in machine):
                offenders.append(f"{where}: {whole} is a path of this machine")
    assert not offenders, "\n".join(offenders)


def test_no_file_stands_an_issue_number_in_for_a_reason() -> None:
    numbered = re.compile(r"\bissue \d+\b", re.I)
    offenders = [
        f"{path.relative_to(ROOT)}:{text.count(chr(10), 0, match.start()) + 1}"
        for path, text in tracked_texts()
        for match in numbered.finditer(text)
    ]
    assert not offenders, offenders


# --- `pulumi new`: the template section ------------------------------------------------------

TEMPLATE = PROJECT["template"]
# What Pulumi's project schema (sdk/go/common/workspace/project.json) allows in a template.
TEMPLATE_FIELDS = {"description", "quickstart", "important", "config"}
TEMPLATE_CONFIG_FIELDS = {"description", "default", "secret"}


def test_the_template_uses_only_fields_pulumi_new_understands() -> None:
    assert set(TEMPLATE) <= TEMPLATE_FIELDS
    for key, prompt in TEMPLATE["config"].items():
        assert set(prompt) <= TEMPLATE_CONFIG_FIELDS, key
        assert len(prompt.get("description", "")) > 20, key


def test_the_template_asks_for_the_keys_a_newcomer_must_choose() -> None:
    assert {"mta-sts:domain", "mta-sts:hosting", "mta-sts:mode"} <= set(TEMPLATE["config"])
    assert "tlsRpt[0]" in TEMPLATE["quickstart"]


@pytest.mark.parametrize("key", sorted(PROJECT["template"]["config"]))
def test_every_template_prompt_is_a_declared_scalar_key_with_the_declared_default(key: str) -> None:
    namespace, _, name = key.partition(":")
    assert namespace == PROJECT["name"], f"{key}: template keys carry the project namespace"
    assert name in DECLARED, f"{key}: not declared under config in Pulumi.yaml"
    # A prompt answers with a string; the CLI checks stack values against the declared type.
    assert DECLARED[name]["type"] in {"string", "integer", "boolean"}, key
    assert TEMPLATE["config"][key].get("default") == DECLARED[name].get("default"), key


# --- Example stacks ---------------------------------------------------------------------------

EXAMPLES = sorted(ROOT.glob("Pulumi.*.yaml"))


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda path: path.name)
def test_every_example_value_that_differs_from_the_default_says_why(path: Path) -> None:
    text = path.read_text()
    comments = "\n".join(line for line in text.splitlines() if line.lstrip().startswith("#"))
    config = yaml.safe_load(text)["config"]
    for key, value in config.items():
        name = key.removeprefix("mta-sts:")
        default = DECLARED.get(name, {}).get("default")
        if default is not None and value != default:
            assert name in comments, f"{path.name}: {name} is {value!r}, not the default {default!r}; say why"


def test_the_token_table_names_the_cloudflare_permission_dnssec_needs() -> None:
    # components/pulumi_mta_sts/dnssec.py turns signing on (PATCH /zones/{zone_id}/dnssec): a token scoped to
    # DNS records alone was refused on earlier Cloudflare tokens.
    row = next(line for line in README.splitlines() if line.startswith("   | Cloudflare API token |"))
    assert "`dnssec: true`" in row and "Zone Settings → Edit" in row
    assert "Zone Settings → Edit" in (ROOT / "docs/security.md").read_text()
