"""The operations of Netlify's REST API this stack uses, as one synchronous client.

Manages: sites (create, get, update the custom domain, delete), file-digest deploys (create,
upload the files Netlify asks for, wait until ready), the site's file list, and the site's
Let's Encrypt certificate (show, provision). Every operation is one described in
Netlify's API description (Swagger 2.0, basePath /api/v1; a copy is in
`tests/data/netlify/netlify-openapi.yml`). The requests themselves, their retries and their
errors are the transport's (pulumi_mta_sts/netlify/transport.py); the token's handling is
pulumi_mta_sts/netlify/credential.py's.

Leaves alone: DNS (Cloudflare holds the zone), domain aliases (a redirect from another name
is fatal under RFC 8461 §3.3), builds, forms, functions and everything else.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, TypeVar
from urllib.parse import quote

from pulumi_mta_sts.netlify.models import AnswerError, Certificate, Deploy, Site, sha1_hex, site_path
from pulumi_mta_sts.netlify.transport import SERVER_MESSAGE_CHARS, NetlifyError, NetlifyTransport, segment
from pulumi_mta_sts.polling import Backoff, PollTimeout, poll

from mtasts.visible import visible

T = TypeVar("T")


class NetlifyClient(NetlifyTransport):
    """Synchronous Netlify API client. Use as a context manager, or call `close()`."""

    def _answer(self, parse: Callable[[Any], T], method: str, path: str, operation: str, **kwargs: Any) -> T:
        """The request's answer as `parse` reads it; one of another shape is a NetlifyError saying so."""
        data = self._request(method, path, operation, **kwargs)
        try:
            return parse(data)
        except AnswerError as error:
            raise NetlifyError(
                None,
                self._scrub(
                    f"Netlify's answer to {visible(operation, 300)} {error}; run `scripts/deploy` again "
                    "later, and report it if it repeats."
                ),
            ) from None

    # Sites -----------------------------------------------------------------------------------

    def create_site(self, custom_domain: str, name: str | None = None) -> Site:
        body: dict[str, Any] = {"custom_domain": custom_domain}
        if name:
            body["name"] = name
        return self._answer(
            Site.from_json, "POST", "/sites", f"creating the site for {custom_domain}", json=body
        )

    def get_site(self, site_id: str) -> Site:
        return self._answer(Site.from_json, "GET", f"/sites/{segment(site_id)}", f"reading site {site_id}")

    def update_site(self, site_id: str, *, custom_domain: str | None = None, name: str | None = None) -> Site:
        body: dict[str, Any] = {}
        if custom_domain is not None:
            body["custom_domain"] = custom_domain
        if name is not None:
            body["name"] = name
        # The spec describes PATCH (updateSite) for partial updates of a site.
        return self._answer(
            Site.from_json, "PATCH", f"/sites/{segment(site_id)}", f"updating site {site_id}", json=body
        )

    def delete_site(self, site_id: str) -> None:
        self._request("DELETE", f"/sites/{segment(site_id)}", f"deleting site {site_id}")

    # Deploys ---------------------------------------------------------------------------------

    def create_deploy(self, site_id: str, digests: Mapping[str, str]) -> Deploy:
        return self._answer(
            Deploy.from_json,
            "POST",
            f"/sites/{segment(site_id)}/deploys",
            f"starting a deploy of site {site_id}",
            json={"files": dict(digests)},
        )

    def upload_file(self, deploy_id: str, path: str, content: bytes) -> None:
        # Slashes stay literal in {path}, as Netlify's own clients send it (encodeURI, not
        # encodeURIComponent): https://github.com/netlify/open-api/issues/260 shows the flow.
        self._request(
            "PUT",
            f"/deploys/{segment(deploy_id)}/files/{quote(path.lstrip('/'), safe='/')}",
            f"uploading {site_path(path)} to deploy {deploy_id}",
            content=content,
            headers={"Content-Type": "application/octet-stream"},
        )

    def get_deploy(self, deploy_id: str) -> Deploy:
        return self._answer(
            Deploy.from_json, "GET", f"/deploys/{segment(deploy_id)}", f"reading deploy {deploy_id}"
        )

    def deploy_files(
        self,
        site_id: str,
        files: Mapping[str, str],
        *,
        timeout_seconds: float = 300.0,
        backoff: Backoff | None = None,
    ) -> Deploy:
        """File-digest deploy: send every digest, upload what Netlify lists in `required`, wait for ready.

        `required` holds SHA-1 digests, not paths, and one digest stands for every file with that
        content, so each required digest is uploaded once, under one of its paths.
        """
        contents = {site_path(path): content.encode("utf-8") for path, content in files.items()}
        digests = {path: sha1_hex(data) for path, data in sorted(contents.items())}
        deploy = self.create_deploy(site_id, digests)
        path_for_digest: dict[str, str] = {}
        for path, digest in digests.items():
            path_for_digest.setdefault(digest, path)
        for digest in deploy.required:
            if digest not in path_for_digest:
                raise NetlifyError(
                    None,
                    f"Netlify asked deploy {deploy.id} for a file with digest {digest}, which this deploy "
                    "did not offer; run `scripts/deploy` again, and report it if it repeats.",
                )
            path = path_for_digest[digest]
            self.upload_file(deploy.id, path, contents[path])
        return self.wait_for_deploy(deploy.id, timeout_seconds=timeout_seconds, backoff=backoff)

    def wait_for_deploy(
        self, deploy_id: str, *, timeout_seconds: float, backoff: Backoff | None = None
    ) -> Deploy:
        """Poll until the deploy is `ready`; fail on `error` or when the time is up."""

        def ended(deploy: Deploy) -> bool:
            if deploy.state in ("error", "rejected"):
                said = visible(self._scrub(deploy.error_message), SERVER_MESSAGE_CHARS) or "no message"
                raise NetlifyError(
                    None,
                    self._scrub(
                        f"Netlify deploy {visible(deploy_id)} ended in state {deploy.state!r}: {said}; "
                        "fix the cause and run `scripts/deploy` again."
                    ),
                )
            return deploy.state == "ready"

        try:
            return poll(
                lambda: self.get_deploy(deploy_id),
                done=ended,
                timeout=timeout_seconds,
                backoff=backoff or Backoff(),
                sleep=self.sleep,
            )
        except PollTimeout as timeout:
            raise NetlifyError(
                None,
                f"Netlify deploy {visible(deploy_id)} was still {timeout.last.state!r} after "
                f"{timeout_seconds:g} s; check the deploy in the Netlify UI and run `scripts/deploy` again.",
            ) from None

    # TLS -------------------------------------------------------------------------------------

    def get_certificate(self, site_id: str) -> Certificate:
        return self._answer(
            Certificate.from_json,
            "GET",
            f"/sites/{segment(site_id)}/ssl",
            f"reading the certificate of site {site_id}",
        )

    def provision_certificate(self, site_id: str, custom_domain: str) -> Certificate:
        """Ask Netlify for a Let's Encrypt certificate (no certificate parameters: RFC 8461 §3.2)."""
        return self._answer(
            Certificate.from_json,
            "POST",
            f"/sites/{segment(site_id)}/ssl",
            f"provisioning the certificate for {custom_domain}",
            hints={
                422: (
                    f"DNS for {custom_domain} does not point at Netlify yet (or the site has no custom "
                    "domain). Check that the A record points at Netlify and is DNS-only, not proxied, "
                    "then wait for it to propagate and run `scripts/deploy` again"
                )
            },
        )
