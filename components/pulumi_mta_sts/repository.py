"""The GitHub repository that holds the policy file and whatever the host needs beside it.

Manages the repository and one file resource per file of the desired state. Leaves alone
any other file in the repository (a README edited by hand, a CNAME GitHub writes).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_github as github

COMMIT_AUTHOR = "mta-sts stack"
COMMIT_EMAIL = "mta-sts-stack@users.noreply.github.com"


def file_resource_suffix(path: str) -> str:
    """`.well-known/mta-sts.txt` → `well-known-mta-sts-txt`: kebab-case and stable."""
    return re.sub(r"[^a-z0-9]+", "-", path.lower()).strip("-")


@dataclass(frozen=True)
class PolicyRepositoryArgs:
    """`name`: the repository; `files`: path → content, from the core's DesiredState;
    `publish_after`: what must be done before any file changes (the record of its `max_age`)."""

    name: str
    description: str
    files: Mapping[str, str]
    branch: str = "main"
    publish_after: Sequence[pulumi.Resource] = field(default_factory=tuple)


class PolicyRepository(pulumi.ComponentResource):
    repository_name: pulumi.Output[str]
    html_url: pulumi.Output[str]
    file_commits: pulumi.Output[dict[str, str]]

    def __init__(self, name: str, args: PolicyRepositoryArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("mta-sts:github:PolicyRepository", name, None, opts)
        self.repository = github.Repository(
            f"{name}-repository",
            name=args.name,
            description=args.description,
            # Public: the policy is public anyway, and GitHub Pages needs it on free plans.
            visibility="public",
            auto_init=True,  # creates the default branch the files are committed to
            has_issues=False,
            has_projects=False,
            has_wiki=False,
            # If a delete ever reaches GitHub anyway, archive instead: the history stays readable.
            archive_on_destroy=True,
            # The repository is the record of what was published: a stack destroy keeps it.
            opts=pulumi.ResourceOptions(parent=self, retain_on_delete=True),
        )
        self.files = {
            path: github.RepositoryFile(
                f"{name}-file-{file_resource_suffix(path)}",
                repository=self.repository.name,
                branch=args.branch,
                file=path,
                content=content,
                commit_message=f"Update {path} (managed by the mta-sts stack)",
                commit_author=COMMIT_AUTHOR,
                commit_email=COMMIT_EMAIL,
                # A hand-made repository adopted by name may hold the file already.
                overwrite_on_create=True,
                opts=pulumi.ResourceOptions(parent=self, depends_on=list(args.publish_after)),
            )
            for path, content in sorted(args.files.items())
        }
        self.repository_name = self.repository.name
        self.html_url = self.repository.html_url
        self.file_commits = pulumi.Output.all(
            **{path: resource.commit_sha for path, resource in self.files.items()}
        )
        self.register_outputs(
            {
                "repository_name": self.repository_name,
                "html_url": self.html_url,
                "file_commits": self.file_commits,
            }
        )
