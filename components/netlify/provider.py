"""Pulumi dynamic resources for the Netlify site that serves the policy, and its certificate.

Manages:
- `NetlifySite`: one site whose custom domain is exactly `mta-sts.<domain>`, serving the
  repository's files (the core's `DesiredState.files`) through a file-digest deploy.
- `NetlifyCertificate`: the site's Let's Encrypt certificate, requested until DNS points at
  Netlify (the stack makes it depend on the A record) or a timeout passes.

Leaves alone: domain aliases (never set: a redirect from another name is fatal, RFC 8461 §3.3,
RFC 8461 §3.2), DNS (components/dns.py), and whether the policy is really served (the readiness
resource checks that over HTTPS).

Credentials: the token is read at run time, in `configure` from the stack config
`mta-sts:netlifyToken` (the engine unwraps secrets before they reach a dynamic provider), or
from NETLIFY_AUTH_TOKEN. It is never an input or an output, and `__getstate__` drops it, so
the provider Pulumi pickles into the state (`serialize_provider`, dill) never carries it. The
provider classes are pickled by reference (module and class name): the provider host, started
in the project directory, re-imports this module, which therefore imports little and has no
side effects (import-time side effects break the host: https://github.com/pulumi/pulumi/issues/7453).
Do not rename or move this module or its provider classes: existing stacks' state names them,
and `pulumi refresh` and `pulumi destroy` load them from there.
NETLIFY_API_URL points the client at another API root (the tests' local fake).
"""

from __future__ import annotations

import contextlib
import functools
import os
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

import pulumi
from pulumi.dynamic import (
    CheckFailure,
    CheckResult,
    ConfigureRequest,
    CreateResult,
    DiffResult,
    ReadResult,
    Resource,
    ResourceProvider,
    UpdateResult,
)

from components.netlify.api import (
    DEFAULT_BASE_URL,
    TOKEN_HELP,
    Certificate,
    NetlifyClient,
    NetlifyError,
    TokenError,
    clean_token,
    file_digests,
    scrub,
)
from components.polling import Backoff, PollTimeout, poll
from mtasts.names import is_hostname
from mtasts.policy import POLICY_PATH

TOKEN_CONFIG_KEY = "mta-sts:netlifyToken"
TOKEN_ENV = "NETLIFY_AUTH_TOKEN"
BASE_URL_ENV = "NETLIFY_API_URL"
POLICY_HOST_PREFIX = "mta-sts."
# pulumi.runtime.rpc.UNKNOWN: what check and diff see for a value not known during preview.
UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"


class _NetlifyProvider(ResourceProvider):
    """Credential handling and tunables shared by both providers; holds no token when pickled."""

    _token: str | None

    def __init__(
        self,
        *,
        backoff: Backoff | None = None,
        deploy_timeout_seconds: float = 300.0,
        max_rate_limit_wait: float = 60.0,
    ) -> None:
        super().__init__()
        self.backoff = backoff or Backoff(initial=2.0, maximum=30.0)
        self.deploy_timeout_seconds = deploy_timeout_seconds
        self.max_rate_limit_wait = max_rate_limit_wait
        self._token = None

    def configure(self, req: ConfigureRequest) -> None:
        # The provider host passes the whole stack config, namespaced, with secrets unwrapped
        # (https://github.com/pulumi/pulumi/pull/17673, which fixed pulumi/pulumi#17050).
        value = req.config.get(TOKEN_CONFIG_KEY)
        self._token = str(value) if value else None

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state.pop("_token", None)
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._token = None

    def _raw_token(self) -> str:
        return self._token or os.environ.get(TOKEN_ENV, "")

    def _client(self) -> NetlifyClient:
        try:
            token = clean_token(self._raw_token())
        except TokenError as error:
            raise NetlifyError(None, f"{error}.") from None
        if not token:
            raise NetlifyError(
                None,
                "No Netlify token in the stack config or the environment, so Netlify was not read or "
                "changed. Pull-request previews hold no Netlify token (Netlify has no read-only token): "
                f"run this in the deploy job, or {TOKEN_HELP}.",
            )
        return NetlifyClient(
            token=token,
            base_url=os.environ.get(BASE_URL_ENV) or DEFAULT_BASE_URL,
            max_rate_limit_wait=self.max_rate_limit_wait,
        )

    def _scrub(self, text: str) -> str:
        """`text` without the token, as configured and as cleaned (see `api.scrub`)."""
        raw = self._raw_token()
        for token in dict.fromkeys((raw, raw.strip())):
            text = scrub(text, token)
        return text


Method = TypeVar("Method", bound=Callable[..., Any])


def _token_safe(method: Method) -> Method:
    """Whatever a provider method raises reaches the engine (and the user) without the token.

    The dynamic provider host reports an error with `traceback.format_exc()`, which prints
    the chained exceptions too; so the error is re-raised scrubbed, as a whole, `from None`.
    """

    @functools.wraps(method)
    def wrapper(self: _NetlifyProvider, *args: Any, **kwargs: Any) -> Any:
        try:
            return method(self, *args, **kwargs)
        except NetlifyError as error:
            raise NetlifyError(
                error.status, self._scrub(error.message), server_message=self._scrub(error.server_message)
            ) from None
        except Exception as error:
            raise NetlifyError(None, self._scrub(f"{type(error).__name__}: {error}")) from None

    return wrapper  # type: ignore[return-value]


def _known(value: Any) -> bool:
    return value != UNKNOWN


def check_policy_host(value: Any) -> str | None:
    """Why `value` is not an acceptable custom domain, or None (RFC 8461 §3.2: exactly mta-sts.<domain>)."""
    if not isinstance(value, str):
        return f"custom_domain must be a string such as 'mta-sts.example.com', got {value!r}"
    if not value.startswith(POLICY_HOST_PREFIX) or not is_hostname(value[len(POLICY_HOST_PREFIX) :]):
        return (
            f"custom_domain must be exactly 'mta-sts.<domain>' in lower case, got {value!r}: senders fetch "
            "the policy from that name and follow no redirect (RFC 8461 §3.3)"
        )
    return None


# --- Site -------------------------------------------------------------------------------------


class NetlifySiteProvider(_NetlifyProvider):
    """CRUD for a Netlify site with a file-digest deploy; the resource id is the site id."""

    def check(self, _olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        failures: list[CheckFailure] = []
        domain = news.get("custom_domain")
        if _known(domain) and (problem := check_policy_host(domain)):
            failures.append(CheckFailure("custom_domain", problem))
        files = news.get("files")
        if _known(files):
            problem = _check_files(files)
            if problem:
                failures.append(CheckFailure("files", problem))
        name = news.get("site_name")
        if name is not None and _known(name) and not _valid_site_name(name):
            failures.append(
                CheckFailure(
                    "site_name",
                    f"site_name must be 1–63 lower-case letters, digits and hyphens, got {name!r}",
                )
            )
        return CheckResult(news, failures)

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        # `olds` are the outputs create/update/read returned, which carry what diff compares.
        changed = site_changes(olds, news)
        return DiffResult(changes=bool(changed), replaces=[], delete_before_replace=False)

    @_token_safe
    def create(self, props: dict[str, Any]) -> CreateResult:
        with self._client() as client:
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
        return CreateResult(site.id, _site_outputs(site, deploy.id, props["files"]))

    @_token_safe
    def update(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        changed = site_changes(olds, news)
        with self._client() as client:
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
        return UpdateResult(_site_outputs(site, deploy_id, news["files"]))

    @_token_safe
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

    @_token_safe
    def delete(self, id_: str, _props: dict[str, Any]) -> None:
        with self._client() as client:
            try:
                client.delete_site(id_)
            except NetlifyError as error:
                if error.status != 404:  # already gone is what we wanted
                    raise


def site_changes(olds: Mapping[str, Any], news: Mapping[str, Any]) -> list[str]:
    """The input keys whose desired value differs from the recorded one."""
    changed = []
    if news.get("custom_domain") != olds.get("custom_domain"):
        changed.append("custom_domain")
    files = news.get("files")
    if not isinstance(files, dict) or file_digests(files) != olds.get("file_digests"):
        changed.append("files")
    name = news.get("site_name")
    if name and name != olds.get("site_name"):
        changed.append("site_name")
    return changed


def _site_outputs(site: Any, deploy_id: str, files: Mapping[str, str]) -> dict[str, Any]:
    return {
        "site_id": site.id,
        "site_name": site.name,
        "deploy_id": deploy_id,
        "url": site.ssl_url or site.url,
        "custom_domain": site.custom_domain,
        "file_digests": file_digests(files),
    }


def _check_files(files: Any) -> str | None:
    if not isinstance(files, dict) or not files:
        return "files must be a non-empty map of repository paths to text content"
    for path, content in files.items():
        if not isinstance(path, str) or not isinstance(content, str):
            return f"files maps paths to text; {path!r} does not"
        parts = path.strip("/").split("/")
        if not path.strip("/") or any(part in ("", ".", "..") for part in parts):
            return f"file path {path!r} must be a plain relative path"
    if not any(path.strip("/") == POLICY_PATH for path in files):
        return f"files must include {POLICY_PATH}, the policy file (RFC 8461 §3.2)"
    return None


def _valid_site_name(name: Any) -> bool:
    return (
        isinstance(name, str)
        and 0 < len(name) <= 63
        and all(c.isascii() and (c.islower() or c.isdigit() or c == "-") for c in name)
    )


class NetlifySite(Resource, module="netlify", name="Site"):
    """A Netlify site serving `files` at exactly `custom_domain` (no aliases)."""

    site_id: pulumi.Output[str]
    site_name: pulumi.Output[str]
    deploy_id: pulumi.Output[str]
    url: pulumi.Output[str]
    custom_domain: pulumi.Output[str]
    file_digests: pulumi.Output[dict[str, str]]

    def __init__(
        self,
        name: str,
        custom_domain: pulumi.Input[str],
        files: pulumi.Input[Mapping[str, str]],
        site_name: pulumi.Input[str] | None = None,
        opts: pulumi.ResourceOptions | None = None,
        provider: NetlifySiteProvider | None = None,
    ) -> None:
        props = {
            "custom_domain": custom_domain,
            "files": files,
            "site_name": site_name,
            "site_id": None,
            "deploy_id": None,
            "url": None,
            "file_digests": None,
        }
        super().__init__(provider or NetlifySiteProvider(), name, props, opts)


# --- Certificate ------------------------------------------------------------------------------


class NetlifyCertificateProvider(_NetlifyProvider):
    """Let's Encrypt certificate of a site; the id is `<site_id>/ssl`. Deleting it is a no-op:
    the API has no call for it, and the certificate goes with the site."""

    def check(self, _olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        failures: list[CheckFailure] = []
        domain = news.get("custom_domain")
        if _known(domain) and (problem := check_policy_host(domain)):
            failures.append(CheckFailure("custom_domain", problem))
        timeout = news.get("timeout_seconds")
        if _known(timeout) and (not isinstance(timeout, int | float) or timeout < 0):
            failures.append(
                CheckFailure("timeout_seconds", f"timeout_seconds must be 0 or more, got {timeout!r}")
            )
        return CheckResult(news, failures)

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        # timeout_seconds only bounds the wait; changing it changes nothing at Netlify.
        replaces = ["site_id"] if news.get("site_id") != olds.get("site_id") else []
        changed = replaces or news.get("custom_domain") != olds.get("custom_domain")
        return DiffResult(changes=bool(changed), replaces=replaces, delete_before_replace=False)

    @_token_safe
    def create(self, props: dict[str, Any]) -> CreateResult:
        certificate = self._provision(props)
        return CreateResult(f"{props['site_id']}/ssl", _certificate_outputs(props, certificate))

    @_token_safe
    def update(self, _id: str, _olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        return UpdateResult(_certificate_outputs(news, self._provision(news)))

    @_token_safe
    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        with self._client() as client:
            try:
                certificate = client.get_certificate(props["site_id"])
            except NetlifyError as error:
                if error.status == 404:
                    return ReadResult("", {})
                raise
        return ReadResult(id_, _certificate_outputs(props, certificate))

    @_token_safe
    def delete(self, _id: str, _props: dict[str, Any]) -> None:
        return None

    def _provision(self, props: Mapping[str, Any]) -> Certificate:
        site_id = str(props["site_id"])
        domain = str(props["custom_domain"])
        timeout = float(props.get("timeout_seconds") or 0)
        with self._client() as client:

            def attempt() -> tuple[Certificate | None, Certificate | None, str]:
                """(a certificate for `domain`, the site's existing one, what Netlify last said)."""
                existing = _existing_certificate(client, site_id)
                if existing and domain in existing.domains:
                    return existing, existing, ""
                try:
                    certificate = client.provision_certificate(site_id, domain)
                except NetlifyError as error:
                    if error.status != 422:
                        raise
                    # 422 means "bad dns for custom domain" until the A record has propagated, or
                    # "No custom domain configured"; both can clear up, so retry until the deadline.
                    return None, existing, f"HTTP 422: {error.server_message or 'no message'}"
                if domain in certificate.domains:
                    return certificate, existing, ""
                return (
                    None,
                    existing,
                    f"a certificate in state {certificate.state!r} for {list(certificate.domains)}",
                )

            try:
                issued, _, _ = poll(
                    attempt, done=lambda seen: seen[0] is not None, timeout=timeout, backoff=self.backoff
                )
            except PollTimeout as timeout_error:
                _, existing, last = timeout_error.last
                raise NetlifyError(
                    422,
                    f"Netlify issued no TLS certificate for {domain} after {timeout_error.attempts} "
                    f"attempt(s) in {timeout:g} s; it last answered {last}. "
                    f"{_certificate_advice(domain, existing)}",
                    server_message=last,
                ) from None
        assert issued is not None
        return issued


def _certificate_advice(domain: str, existing: Certificate | None) -> str:
    if existing is not None:
        # The API replaces an existing certificate only with a custom one; a Let's Encrypt
        # certificate for a changed custom domain is renewed by Netlify, or by hand in its UI.
        return (
            f"The site already has a certificate, for {list(existing.domains)}, not for {domain}: "
            "wait for Netlify to renew it, or renew it under Domain management → HTTPS in the Netlify "
            "UI, then run `pulumi up` again."
        )
    return (
        f"DNS for {domain} does not point at Netlify yet: check that `dig +short A {domain}` answers "
        "75.2.60.5, that the Cloudflare record is DNS-only (not proxied) and that no AAAA or CNAME record "
        "shadows it, then run `pulumi up` again (Let's Encrypt can take many minutes after DNS changes)."
    )


def _existing_certificate(client: NetlifyClient, site_id: str) -> Certificate | None:
    # POST /ssl on a site that already has a certificate is a 422 ("certificate parameter is
    # required when updating an existing certificate", netlify-openapi.yml), so look first.
    try:
        return client.get_certificate(site_id)
    except NetlifyError as error:
        if error.status == 404:
            return None
        raise


def _certificate_outputs(props: Mapping[str, Any], certificate: Certificate) -> dict[str, Any]:
    return {
        "site_id": props["site_id"],
        "custom_domain": props["custom_domain"],
        "timeout_seconds": props.get("timeout_seconds"),
        "state": certificate.state,
        "domains": list(certificate.domains),
        "expires_at": certificate.expires_at,
    }


class NetlifyCertificate(Resource, module="netlify", name="Certificate"):
    """The site's TLS certificate for `custom_domain`, provisioned once DNS points at Netlify."""

    site_id: pulumi.Output[str]
    custom_domain: pulumi.Output[str]
    state: pulumi.Output[str]
    domains: pulumi.Output[list[str]]
    expires_at: pulumi.Output[str]

    def __init__(
        self,
        name: str,
        site_id: pulumi.Input[str],
        custom_domain: pulumi.Input[str],
        timeout_seconds: pulumi.Input[float] = 1800,
        opts: pulumi.ResourceOptions | None = None,
        provider: NetlifyCertificateProvider | None = None,
    ) -> None:
        props = {
            "site_id": site_id,
            "custom_domain": custom_domain,
            "timeout_seconds": timeout_seconds,
            "state": None,
            "domains": None,
            "expires_at": None,
        }
        super().__init__(provider or NetlifyCertificateProvider(), name, props, opts)
