"""Serving the repository's files at https://mta-sts.<domain>/ (RFC 8461 §3.3).

`GitHubPagesSite` publishes the repository root from its branch; `NetlifyHosting`
deploys the same files to a Netlify site through our dynamic provider, then asks for its
certificate once DNS points at Netlify. Both expose `served_by`, an output that changes
when what is served changes, for the readiness check to follow.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_github as github
from pulumi_mta_sts.netlify import NetlifyCertificate, NetlifySite


@dataclass(frozen=True)
class GitHubPagesSiteArgs:
    repository: pulumi.Input[str]
    custom_domain: str
    branch: str = "main"
    published_files: Sequence[pulumi.Resource] = field(default_factory=tuple)


class GitHubPagesSite(pulumi.ComponentResource):
    served_by: pulumi.Output[Any]

    def __init__(self, name: str, args: GitHubPagesSiteArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("mta-sts:hosting:GitHubPagesSite", name, None, opts)
        self.pages = github.RepositoryPages(
            f"{name}-pages",
            repository=args.repository,
            build_type="legacy",  # publish the branch as it is (with .nojekyll: no Jekyll build)
            source=github.RepositoryPagesSourceArgs(branch=args.branch, path="/"),
            cname=args.custom_domain,
            # No https_enforced: GitHub refuses it until the certificate exists
            # (integrations/terraform-provider-github#3450), and senders use HTTPS only anyway.
            opts=pulumi.ResourceOptions(parent=self, depends_on=list(args.published_files)),
        )
        self.served_by = self.pages.html_url
        self.register_outputs({"served_by": self.served_by})


@dataclass(frozen=True)
class NetlifyHostingArgs:
    """`dns_ready`: the records that point the host at Netlify, needed for its certificate.
    `publish_after`: what must be done before the files are deployed (the record of their `max_age`).
    `netlify_token`: the token for the site's and certificate's create and update (a secret input);
    None leaves the providers to the stack config or NETLIFY_AUTH_TOKEN."""

    custom_domain: str
    files: Mapping[str, str]
    certificate_timeout: int
    dns_ready: Sequence[pulumi.Resource] = field(default_factory=tuple)
    publish_after: Sequence[pulumi.Resource] = field(default_factory=tuple)
    netlify_token: pulumi.Input[str] | None = None


class NetlifyHosting(pulumi.ComponentResource):
    served_by: pulumi.Output[Any]

    def __init__(self, name: str, args: NetlifyHostingArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("mta-sts:hosting:NetlifyHosting", name, None, opts)
        self.site = NetlifySite(
            f"{name}-site",
            custom_domain=args.custom_domain,
            files=dict(args.files),
            netlify_token=args.netlify_token,
            opts=pulumi.ResourceOptions(parent=self, depends_on=list(args.publish_after)),
        )
        self.certificate = NetlifyCertificate(
            f"{name}-certificate",
            site_id=self.site.site_id,
            custom_domain=args.custom_domain,
            timeout_seconds=args.certificate_timeout,
            netlify_token=args.netlify_token,
            # Netlify issues the certificate only once DNS answers with its address.
            opts=pulumi.ResourceOptions(parent=self, depends_on=list(args.dns_ready)),
        )
        self.served_by = pulumi.Output.all(self.site.deploy_id, self.certificate.id)
        self.register_outputs({"served_by": self.served_by})
