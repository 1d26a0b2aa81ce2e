"""The Pulumi dynamic providers of the Netlify site and its certificate; existing stacks' state names them.

Manages: `NetlifySiteProvider` (CRUD of the site and its file-digest deploy; the id is the site
id) and `NetlifyCertificateProvider` (the site's Let's Encrypt certificate), the providers of
the resources in pulumi_mta_sts/netlify/resources.py.

Leaves alone: the token (from the secret input `netlify_token` or read at run time by their base,
pulumi_mta_sts/netlify/provider_base.py; never an output, never compared by diff, never pickled),
the site's input checks and outputs (pulumi_mta_sts/netlify/site_properties.py),
how a certificate is obtained (pulumi_mta_sts/netlify/certificate_issuing.py), and the API itself
(pulumi_mta_sts/netlify/api.py).

Why these two classes are defined here and nowhere else: Pulumi pickles each resource's
provider into the stack's state (`serialize_provider`, dill), and dill pickles a class by
reference, by the module that defines it and its name; so the state names
`pulumi_mta_sts.netlify.provider.NetlifySiteProvider` and `...NetlifyCertificateProvider` (and the
`pulumi_mta_sts.polling.Backoff` they hold), and `pulumi refresh` and `pulumi destroy` load them
from there. Do not rename or move them, nor define them elsewhere and re-export them here:
the next `pulumi up` would record the other module. tests/test_netlify_provider.py loads
providers pickled by an older version (tests/data/netlify/pickled-providers.json).
The provider host, started in the project directory, re-imports this module, which therefore
imports little and has no side effects (import-time side effects break the host:
https://github.com/pulumi/pulumi/issues/7453).
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from typing import Any

from pulumi.dynamic import (
    CheckFailure,
    CheckResult,
    CreateResult,
    DiffResult,
    ReadResult,
    UpdateResult,
)
from pulumi_mta_sts.netlify.certificate_issuing import certificate_outputs, issue_certificate
from pulumi_mta_sts.netlify.models import Certificate
from pulumi_mta_sts.netlify.provider_base import NetlifyProvider, check_policy_host, known, token_safe
from pulumi_mta_sts.netlify.site_properties import (
    check_files,
    site_changes,
    site_outputs,
    valid_site_name,
)
from pulumi_mta_sts.netlify.transport import NetlifyError


class NetlifySiteProvider(NetlifyProvider):
    """CRUD for a Netlify site with a file-digest deploy; the resource id is the site id."""

    def check(self, _olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        failures: list[CheckFailure] = []
        domain = news.get("custom_domain")
        if known(domain) and (problem := check_policy_host(domain)):
            failures.append(CheckFailure("custom_domain", problem))
        files = news.get("files")
        if known(files):
            problem = check_files(files)
            if problem:
                failures.append(CheckFailure("files", problem))
        name = news.get("site_name")
        if name is not None and known(name) and not valid_site_name(name):
            failures.append(
                CheckFailure(
                    "site_name",
                    f"site_name must be 1–63 lower-case letters, digits and hyphens, got {name!r}",
                )
            )
        return CheckResult(news, failures)

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        # `olds` are the outputs create/update/read returned, which carry what diff compares
        # (never the token input: a new token changes nothing at Netlify).
        changed = site_changes(olds, news)
        return DiffResult(changes=bool(changed), replaces=[], delete_before_replace=False)

    @token_safe
    def create(self, props: dict[str, Any]) -> CreateResult:
        with self._client(props) as client:
            site = client.create_site(props["custom_domain"], props.get("site_name") or None)
            try:
                deploy = client.deploy_files(
                    site.id, props["files"], timeout_seconds=self.deploy_timeout_seconds, backoff=self.backoff
                )
            except NetlifyError:
                # Pulumi records nothing for a failed create, so the site would be orphaned.
                with contextlib.suppress(NetlifyError):
                    client.delete_site(site.id)
                raise
        return CreateResult(site.id, site_outputs(site, deploy.id, props["files"]))

    @token_safe
    def update(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        changed = site_changes(olds, news)
        with self._client(news) as client:
            if "custom_domain" in changed or "site_name" in changed:
                site = client.update_site(
                    id_,
                    custom_domain=news["custom_domain"],
                    name=news.get("site_name") if "site_name" in changed else None,
                )
            else:
                site = client.get_site(id_)
            deploy_id = str(olds.get("deploy_id") or "")
            if "files" in changed or not deploy_id:
                deploy = client.deploy_files(
                    id_, news["files"], timeout_seconds=self.deploy_timeout_seconds, backoff=self.backoff
                )
                deploy_id = deploy.id
        return UpdateResult(site_outputs(site, deploy_id, news["files"]))

    @token_safe
    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        with self._client() as client:
            try:
                site = client.get_site(id_)
            except NetlifyError as error:
                if error.status == 404:
                    return ReadResult("", {})  # an empty id tells the engine the resource is gone
                raise
        outs = dict(props)
        outs.update(
            site_id=site.id,
            url=site.ssl_url or site.url,
            custom_domain=site.custom_domain,
            site_name=site.name,
        )
        # Netlify cannot list a deploy's files (https://github.com/netlify/open-api/issues/160);
        # if another deploy was published since ours, the files are unknown: forget their digests
        # so the next `pulumi up` deploys ours again.
        if site.published_deploy_id and site.published_deploy_id != props.get("deploy_id"):
            outs.update(deploy_id=site.published_deploy_id, file_digests={})
        return ReadResult(id_, outs)

    @token_safe
    def delete(self, id_: str, _props: dict[str, Any]) -> None:
        with self._client() as client:
            try:
                client.delete_site(id_)
            except NetlifyError as error:
                if error.status != 404:  # already gone is what we wanted
                    raise


class NetlifyCertificateProvider(NetlifyProvider):
    """Let's Encrypt certificate of a site; the id is `<site_id>/ssl`. Deleting it is a no-op:
    the API has no call for it, and the certificate goes with the site."""

    def check(self, _olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        failures: list[CheckFailure] = []
        domain = news.get("custom_domain")
        if known(domain) and (problem := check_policy_host(domain)):
            failures.append(CheckFailure("custom_domain", problem))
        timeout = news.get("timeout_seconds")
        if known(timeout) and (not isinstance(timeout, int | float) or timeout < 0):
            failures.append(
                CheckFailure("timeout_seconds", f"timeout_seconds must be 0 or more, got {timeout!r}")
            )
        return CheckResult(news, failures)

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        # The token input is a credential, not a property of the certificate: never compared.
        # timeout_seconds only bounds the wait; changing it changes nothing at Netlify.
        replaces = ["site_id"] if news.get("site_id") != olds.get("site_id") else []
        changed = replaces or news.get("custom_domain") != olds.get("custom_domain")
        return DiffResult(changes=bool(changed), replaces=replaces, delete_before_replace=False)

    @token_safe
    def create(self, props: dict[str, Any]) -> CreateResult:
        certificate = self._provision(props)
        return CreateResult(f"{props['site_id']}/ssl", certificate_outputs(props, certificate))

    @token_safe
    def update(self, _id: str, _olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        return UpdateResult(certificate_outputs(news, self._provision(news)))

    @token_safe
    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        with self._client() as client:
            try:
                certificate = client.get_certificate(props["site_id"])
            except NetlifyError as error:
                if error.status == 404:
                    return ReadResult("", {})
                raise
        return ReadResult(id_, certificate_outputs(props, certificate))

    @token_safe
    def delete(self, _id: str, _props: dict[str, Any]) -> None:
        return None

    def _provision(self, props: Mapping[str, Any]) -> Certificate:
        site_id = str(props["site_id"])
        domain = str(props["custom_domain"])
        timeout = float(props.get("timeout_seconds") or 0)
        with self._client(props) as client:
            return issue_certificate(client, site_id, domain, timeout, self.backoff)
