"""The README and docs/ as a newcomer uses them: links lead somewhere, commands run as pasted.

Every `.venv/bin/python -m mtasts ...` command in the docs is parsed by the real command line,
so a renamed flag or subcommand fails here instead of in a user's terminal; the sample preview
in the README lists exactly what the program registers for the example stack.
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest
import yaml

from mtasts.__main__ import build_parser

ROOT = Path(__file__).resolve().parent.parent
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
LINK = re.compile(r"\]\(([^)\s]+)\)")
MTASTS_COMMAND = re.compile(r"(?:^|`|\$ )(\.venv/bin/python -m mtasts [^`\n]*)")


def page_id(path: Path) -> str:
    return str(path.relative_to(ROOT))


def slug(heading: str) -> str:
    """GitHub's anchor for a heading."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower().replace("`", ""))
    return text.replace(" ", "-")


def anchors(path: Path) -> set[str]:
    return {slug(line.lstrip("#")) for line in path.read_text().splitlines() if line.startswith("#")}


@pytest.mark.parametrize("page", PAGES, ids=page_id)
def test_every_relative_link_leads_to_a_file_and_heading_that_exist(page: Path) -> None:
    broken = []
    for target in LINK.findall(page.read_text()):
        if re.match(r"[a-z]+:", target):
            continue  # https:, mailto:
        file_part, _, anchor = target.partition("#")
        linked = (page.parent / file_part).resolve() if file_part else page
        if not linked.exists():
            broken.append(f"{target}: no such file")
        elif anchor and linked.suffix == ".md" and anchor not in anchors(linked):
            broken.append(f"{target}: no heading '{anchor}' in {linked.name}")
    assert not broken, f"{page_id(page)}: " + "; ".join(broken)


def documented_commands() -> list[tuple[str, str]]:
    found = []
    for page in PAGES:
        for line in page.read_text().splitlines():
            found += [(page_id(page), command) for command in MTASTS_COMMAND.findall(line)]
    return found


def arguments(command: str) -> list[str]:
    """The words after `-m mtasts`, with the shell comment dropped and `<placeholders>` filled."""
    return shlex.split(re.sub(r"<[^>]+>", "placeholder", command.split(" #", 1)[0]))[3:]


def test_the_docs_show_the_mtasts_commands() -> None:
    subcommands = {arguments(command)[0] for _, command in documented_commands()}
    assert {"render", "verify"} <= subcommands


@pytest.mark.parametrize(("page", "command"), documented_commands())
def test_every_documented_mtasts_command_is_accepted_by_the_command_line(page: str, command: str) -> None:
    try:
        build_parser().parse_args(arguments(command))
    except SystemExit as error:
        pytest.fail(f"{page}: `{command}` is refused by the command line (exit {error.code})")


@pytest.mark.parametrize("page", PAGES, ids=page_id)
def test_commands_use_the_virtualenv_that_the_set_up_commands_make(page: str | Path) -> None:
    text = Path(page).read_text()
    bare = [line for line in text.splitlines() if re.search(r"(?<!bin/)\bpython3? -m mtasts", line)]
    assert not bare, "use .venv/bin/python: " + "; ".join(bare)


@pytest.mark.parametrize("page", PAGES, ids=page_id)
def test_every_script_the_docs_name_exists_and_runs(page: Path) -> None:
    for script in set(re.findall(r"\bscripts/[\w.-]+", page.read_text())):
        path = ROOT / script
        assert path.is_file() and path.stat().st_mode & 0o111, f"{page_id(page)}: {script}"


def test_the_sample_preview_lists_exactly_what_the_example_stack_registers() -> None:
    from tests.pulumi_mocks import run_program

    readme = (ROOT / "README.md").read_text()
    sample = readme.split("Previewing update (dev)", 1)[1].split("```", 1)[0]
    shown = set(re.findall(r"^ \+\s+[│├└─ ]*(\S+)\s+(\S+)\s+create$", sample, re.MULTILINE))
    stack_file = yaml.safe_load((ROOT / "Pulumi.dev.yaml").read_text())["config"]
    config = {key.removeprefix("mta-sts:"): value for key, value in stack_file.items()}
    run = run_program({**config, "netlifyToken": "a-token-from-the-environment"})

    def simplified(token: str) -> str:
        # How the CLI shows a type: `github:index/repository:Repository` as `github:index:Repository`.
        package, module, name = token.split(":")
        base, _, last = module.rpartition("/")
        return f"{package}:{base}:{name}" if base and last.lower() == name.lower() else token

    registered = {(simplified(resource.type), resource.name) for resource in run.resources}
    assert shown - {("pulumi:pulumi:Stack", "mta-sts-dev")} == registered
    assert f"+ {len(registered) + 1} to create" in sample


def test_the_policy_pack_page_lists_every_rule_with_its_level() -> None:
    from policy.registry import all_policies

    page = (ROOT / "docs" / "policy-pack.md").read_text()
    listed = dict(re.findall(r"^\| `([a-z-]+)`: .*\| (mandatory|advisory) \|$", page, re.MULTILINE))
    registered = {policy.name: policy.enforcement_level.value for policy in all_policies()}
    assert listed == registered


@pytest.mark.parametrize("page", PAGES, ids=page_id)
def test_every_repository_file_the_docs_name_exists(page: Path) -> None:
    named = set(re.findall(r"`([\w./-]+\.(?:py|yml|yaml|md|json|sh))`", page.read_text()))
    places = (ROOT, ROOT / "docs", ROOT / ".github" / "workflows")
    missing = [
        name for name in named if "NAME" not in name and not any((place / name).exists() for place in places)
    ]
    assert not missing, f"{page_id(page)} names files that do not exist: {missing}"
