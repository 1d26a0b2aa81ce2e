"""CrossGuard rules for the mta-sts stack: what a preview must satisfy before anyone approves it.

Every rule asks the `mtasts` core (the policy parser, the id, the MX pattern matcher, the
TXT grammars, the host-name syntax) instead of restating RFC 8461/8460: one rule, one place.
The rules read resources by their wire property names (`zoneId`, `proxied`), so they also
judge records a person adds to the stack by hand, not only what the components emit.

Values unknown during preview (an output of a resource not yet created) and missing
properties never fail a check: the check that needs them is skipped, and runs again on
`pulumi up` when the value is known. Rules cite RFC 8461, RFC 8460 and RFC 7505.

This module builds `Policy` objects and nothing else; `__main__.py` hands them to
`PolicyPack`, whose constructor starts the analyzer server and blocks.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pulumi_policy import (
    EnforcementLevel,
    PolicyConfigSchema,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
    proxy,
)
from pulumi_policy.policy import Policy as CrossGuardPolicy
from pulumi_policy.proxy import UnknownValueError

from mtasts.names import is_hostname, normalize
from mtasts.policy import POLICY_PATH, Mode, Policy, PolicyError, mx_pattern_matches, parse_policy, policy_id
from mtasts.records import parse_discovery, parse_tls_rpt, txt_kind, unquote_txt

DNS_RECORD = "cloudflare:index/dnsRecord:DnsRecord"
REPOSITORY = "github:index/repository:Repository"
REPOSITORY_FILE = "github:index/repositoryFile:RepositoryFile"
REPOSITORY_PAGES = "github:index/repositoryPages:RepositoryPages"
NETLIFY_SITE = "pulumi-python:dynamic/netlify:Site"
POLICY_READINESS = "pulumi-python:dynamic/mtasts:PolicyReadiness"

POLICY_HOST_LABEL = "mta-sts"
DISCOVERY_LABEL = "_mta-sts"
TLS_RPT_LABEL = "_smtp._tls"
NULL_MX = "."
SPF_NONE = "v=spf1 -all"
DEFAULT_MINIMUM_MAX_AGE = 86_400  # RFC 8461 §5: under a day, a cached enforce policy lapses between visits


class _Unknown:
    """A value the engine will know only after `up` (an output of a resource being created)."""

    def __repr__(self) -> str:
        return "<unknown during preview>"


UNKNOWN: Any = _Unknown()

# The engine's placeholders for unknown values, as they appear in unproxied props.
_SENTINELS = frozenset(
    {
        proxy.UNKNOWN_BOOLEAN_VALUE,
        proxy.UNKNOWN_NUMBER_VALUE,
        proxy.UNKNOWN_STRING_VALUE,
        proxy.UNKNOWN_ARRAY_VALUE,
        proxy.UNKNOWN_ASSET_VALUE,
        proxy.UNKNOWN_ARCHIVE_VALUE,
        proxy.UNKNOWN_OBJECT_VALUE,
    }
)


def prop(props: Mapping[str, Any], key: str) -> Any:
    """`props[key]`, None when missing, `UNKNOWN` when unknown during preview.

    The SDK wraps props in a proxy that raises `UnknownValueError` on an unknown value;
    tests may pass plain dicts holding the raw sentinels, so both are recognised.
    """
    try:
        value = props[key]
    except KeyError:
        return None
    except UnknownValueError:
        return UNKNOWN
    return UNKNOWN if isinstance(value, str) and value in _SENTINELS else value


def known(*values: Any) -> bool:
    return all(value is not UNKNOWN for value in values)


def _string(value: Any) -> Any:
    """A string prop normalised for comparison, passing None and UNKNOWN through."""
    return normalize(value) if isinstance(value, str) else value


def _number(value: Any) -> Any:
    """Numbers arrive as floats over the wire (`priority: 0.0`)."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


# --- What the stack holds, read from resources ---------------------------------------------


@dataclass(frozen=True)
class Record:
    """A Cloudflare DNS record as the engine sees it; fields may be None or UNKNOWN."""

    urn: str
    name: Any
    type: Any
    content: Any
    priority: Any
    proxied: Any

    @property
    def text(self) -> Any:
        """TXT data without Cloudflare's quotes (RFC 8461 §3.1: character-strings concatenated)."""
        return unquote_txt(self.content) if isinstance(self.content, str) else self.content

    def at(self, name: str) -> bool:
        return isinstance(self.name, str) and _string(self.name) == name


def record_of(urn: str, props: Mapping[str, Any]) -> Record:
    type_ = prop(props, "type")
    return Record(
        urn=urn,
        name=_string(prop(props, "name")),
        type=type_.upper() if isinstance(type_, str) else type_,
        content=prop(props, "content"),
        priority=_number(prop(props, "priority")),
        proxied=prop(props, "proxied"),
    )


@dataclass(frozen=True)
class PublishedPolicy:
    """A policy text the stack publishes: the repository file, or a copy the host serves."""

    urn: str
    source: str
    text: str
    domain: str | None


def _domain_of_host(host: Any) -> str | None:
    """`mta-sts.example.com` → `example.com`; anything else → None."""
    host = _string(host)
    prefix = POLICY_HOST_LABEL + "."
    if isinstance(host, str) and host.startswith(prefix) and is_hostname(host[len(prefix) :]):
        return host[len(prefix) :]
    return None


@dataclass(frozen=True)
class StackView:
    """The resources of one preview, in the terms the rules need."""

    records: list[Record]
    policies: list[PublishedPolicy]
    domains: set[str]
    pages: list[tuple[str, Any]]  # (urn, repository)
    files: list[tuple[str, Any, Any]]  # (urn, repository, path)

    def policies_for(self, domain: str) -> list[PublishedPolicy]:
        """The distinct policy texts published for `domain`, each naming every place it is in."""
        by_text: dict[str, list[PublishedPolicy]] = {}
        for published in self.policies:
            if published.domain == domain:
                by_text.setdefault(published.text, []).append(published)
        return [
            PublishedPolicy(same[0].urn, " and ".join(p.source for p in same), text, domain)
            for text, same in by_text.items()
        ]

    def records_at(self, name: str) -> list[Record]:
        return [record for record in self.records if record.at(name)]

    def unknown_names(self) -> bool:
        return any(not known(record.name) for record in self.records)


def stack_view(resources: Sequence[Any]) -> StackView:
    """Read the stack's records, published policies and domains from `PolicyResource`s."""
    records = [record_of(r.urn, r.props) for r in resources if r.resource_type == DNS_RECORD]
    files: list[tuple[str, Any, Any]] = []
    pages: list[tuple[str, Any]] = []
    repo_domains: dict[str, str] = {}
    unplaced: list[tuple[str, str, str, Any]] = []  # (urn, source, text, repository)
    placed: list[PublishedPolicy] = []
    domains: set[str] = set()

    for resource in resources:
        props = resource.props
        if resource.resource_type == REPOSITORY_FILE:
            repository, path, content = prop(props, "repository"), prop(props, "file"), prop(props, "content")
            files.append((resource.urn, repository, path))
            if path == POLICY_PATH and isinstance(content, str):
                source = f"{POLICY_PATH} in repository {repository}"
                unplaced.append((resource.urn, source, content, repository))
            if path == "CNAME" and isinstance(content, str) and isinstance(repository, str):
                domain = _domain_of_host(content.strip())
                if domain:
                    repo_domains[repository] = domain
        elif resource.resource_type == REPOSITORY_PAGES:
            repository, cname = prop(props, "repository"), prop(props, "cname")
            pages.append((resource.urn, repository))
            domain = _domain_of_host(cname)
            if domain and isinstance(repository, str):
                repo_domains[repository] = domain
            if domain:
                domains.add(domain)
        elif resource.resource_type == NETLIFY_SITE:
            domain = _domain_of_host(prop(props, "custom_domain"))
            if domain:
                domains.add(domain)
            site_files = prop(props, "files")
            text = prop(site_files, POLICY_PATH) if isinstance(site_files, Mapping) else None
            if isinstance(text, str):
                source = f"the Netlify site's {POLICY_PATH}"
                placed.append(PublishedPolicy(resource.urn, source, text, domain))
        elif resource.resource_type == POLICY_READINESS:
            domain = _string(prop(props, "domain"))
            if isinstance(domain, str):
                domains.add(domain)

    discovery_prefix = DISCOVERY_LABEL + "."
    domains |= {
        record.name[len(discovery_prefix) :]
        for record in records
        if isinstance(record.name, str) and record.name.startswith(discovery_prefix)
    }
    domains |= set(repo_domains.values())
    only = next(iter(domains)) if len(domains) == 1 else None
    for urn, source, text, repository in unplaced:
        domain = repo_domains.get(repository) if isinstance(repository, str) else None
        placed.append(PublishedPolicy(urn, source, text, domain or only))
    return StackView(records=records, policies=placed, domains=domains, pages=pages, files=files)


def _parsed(text: str) -> Policy | None:
    try:
        return parse_policy(text)
    except PolicyError:
        return None  # reported by policy-file-is-valid


def _policy_file_text(args: ResourceValidationArgs) -> str | None:
    """The repository's policy file, the one document every hosting publishes from."""
    if args.resource_type != REPOSITORY_FILE or prop(args.props, "file") != POLICY_PATH:
        return None
    content = prop(args.props, "content")
    return content if isinstance(content, str) else None


def _config_number(config: Mapping[str, Any], key: str, default: int) -> int:
    value = config.get(key, default)
    return int(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else default


# --- Resource rules ------------------------------------------------------------------------


def validate_policy_file(args: ResourceValidationArgs, report: ReportViolation) -> None:
    """RFC 8461 §3.2: the repository file, and the copy Netlify serves, parse as a sender parses."""
    documents: list[tuple[str, str]] = []
    text = _policy_file_text(args)
    if text is not None:
        documents.append((f"{POLICY_PATH} in the policy repository", text))
    if args.resource_type == NETLIFY_SITE:
        files = prop(args.props, "files")
        served = prop(files, POLICY_PATH) if isinstance(files, Mapping) else None
        if isinstance(served, str):
            documents.append((f"{POLICY_PATH} deployed to Netlify", served))
    allowed = [normalize(p) for p in args.get_config().get("allowedMxPatterns") or [] if isinstance(p, str)]
    for where, document in documents:
        try:
            policy = parse_policy(document)
        except PolicyError as error:
            report(
                f"{where} is not a valid RFC 8461 policy: {'; '.join(error.problems)}. Senders ignore an "
                "invalid policy. Set mode, maxAge and mx in the stack config and let the stack render the "
                "file (`python -m mtasts render` shows it); do not edit the file by hand.",
                None,
            )
            continue
        if allowed:
            refused = [pattern for pattern in policy.mx if not _allowed(pattern, allowed)]
            if refused:
                report(
                    f"{where} lists mx {', '.join(refused)}, which this team does not allow (policy-pack "
                    f"config allowedMxPatterns: {', '.join(allowed)}). Use an allowed mail provider in the "
                    "stack's `mx`, or add the pattern to allowedMxPatterns in the policy-pack config.",
                    None,
                )


def _allowed(pattern: str, allowed: Iterable[str]) -> bool:
    """A policy pattern is allowed if listed, or (a host name) if an allowed wildcard matches it."""
    pattern = normalize(pattern)
    return any(pattern == entry or mx_pattern_matches(entry, pattern) for entry in allowed)


def validate_enforce_max_age(args: ResourceValidationArgs, report: ReportViolation) -> None:
    text = _policy_file_text(args)
    policy = _parsed(text) if text is not None else None
    minimum = _config_number(args.get_config(), "minimumMaxAge", DEFAULT_MINIMUM_MAX_AGE)
    if policy is not None and policy.mode is Mode.ENFORCE and policy.max_age < minimum:
        report(
            f"mode is enforce with max_age {policy.max_age} s, under {minimum} s. A sender that has not "
            "seen the domain for longer than max_age has no policy and accepts a downgraded connection "
            f"(RFC 8461 §5). Set `pulumi config set maxAge {max(minimum, 604_800)}` (a week is common).",
            None,
        )


def validate_mode_none(args: ResourceValidationArgs, report: ReportViolation) -> None:
    text = _policy_file_text(args)
    policy = _parsed(text) if text is not None else None
    if policy is not None and policy.mode is Mode.NONE:
        report(
            "mode is none: this policy retires MTA-STS (RFC 8461 §8.3). Keep this policy served and its "
            "_mta-sts record published until the largest max_age ever served has passed since this "
            "deploy (the stack's `retire` setting keeps it so); only then run `pulumi destroy` to remove "
            "the _mta-sts record and the policy host. "
            "Removing them earlier leaves senders enforcing the old cached policy.",
            None,
        )


def validate_repository_protected(args: ResourceValidationArgs, report: ReportViolation) -> None:
    # What the analyzer can see: `opts.protect` and the provider's `archiveOnDestroy` input.
    # It cannot see `retain_on_delete`: the engine's AnalyzerResourceOptions (pulumi 3.x,
    # pulumi-policy 1.21) carries protect, ignoreChanges, deleteBeforeReplace, aliases,
    # customTimeouts, additionalSecretOutputs and parent only. So a repository kept by
    # retain_on_delete alone still gets this advisory; `archive_on_destroy=True` silences it.
    if args.resource_type != REPOSITORY:
        return
    archive = prop(args.props, "archiveOnDestroy")
    if not known(archive) or archive is True or bool(getattr(args.opts, "protect", False)):
        return
    report(
        f"repository {prop(args.props, 'name')!r} holds the record of every policy served, and nothing "
        "visible to the policy pack protects it from deletion. Set `archive_on_destroy=True` on the "
        "repository (or the `protect` resource option) so a destroy archives it instead.",
        None,
    )


def validate_policy_host_dns_only(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type != DNS_RECORD:
        return
    record = record_of(args.urn, args.props)
    name = record.name
    if not isinstance(name, str) or name.split(".")[0] != POLICY_HOST_LABEL:
        return
    if record.proxied is True:
        report(
            f"{record.type} record {name} is proxied through Cloudflare. Netlify and GitHub Pages can only "
            "obtain the policy host's certificate for DNS-only records. Set "
            "`proxied=False` on it.",
            None,
        )
    if record.type == "CNAME":
        report(
            f"{name} is a CNAME. A CNAME cannot share its name with the null MX and SPF records the policy "
            "host must publish (RFC 7505, RFC 7208). Use A records to the host's addresses, as the stack's "
            "PolicyHostRecords do.",
            None,
        )


# --- Stack rules ---------------------------------------------------------------------------


def _txt_of_kind(records: Iterable[Record], kind: str) -> list[Record]:
    """TXT records of a kind (`mtasts.records.txt_kind`), or that might be (unknown during preview)."""
    return [
        r
        for r in records
        if r.type == "TXT" and (not known(r.text) or (isinstance(r.text, str) and txt_kind(r.text) == kind))
    ]


def _sts_records(view: StackView, domain: str) -> list[Record]:
    """TXT records at `_mta-sts.<domain>` a sender counts: those starting v=STSv1 (RFC 8461 §3.1)."""
    return _txt_of_kind(view.records_at(f"{DISCOVERY_LABEL}.{domain}"), "sts")


def _tls_rpt_records(view: StackView, domain: str) -> list[Record]:
    """TXT records at `_smtp._tls.<domain>` a sender counts: those starting v=TLSRPTv1 (RFC 8460 §3)."""
    return _txt_of_kind(view.records_at(f"{TLS_RPT_LABEL}.{domain}"), "tls-rpt")


def validate_discovery_id(args: StackValidationArgs, report: ReportViolation) -> None:
    view = stack_view(args.resources)
    for domain in sorted(view.domains):
        for record in _sts_records(view, domain):
            if not isinstance(record.text, str):
                continue
            try:
                published_id = parse_discovery(record.text)
            except ValueError as error:
                report(
                    f"_mta-sts.{domain} holds {record.text!r}, which senders cannot read: {error} "
                    "(RFC 8461 §3.1). Let the stack write it: its content is "
                    "`v=STSv1; id=<id of the policy file>`.",
                    record.urn,
                )
                continue
            for published in view.policies_for(domain):
                expected = policy_id(published.text)
                if published_id != expected:
                    report(
                        f"_mta-sts.{domain} announces id {published_id}, but {published.source} has id "
                        f"{expected}. Senders that cached the old policy under this id never fetch the new "
                        "one (RFC 8461 §3.1). Publish the id the stack computes from the policy text "
                        "(`python -m mtasts render` shows it); never set the id by hand.",
                        record.urn,
                    )


def validate_one_record_each(args: StackValidationArgs, report: ReportViolation) -> None:
    view = stack_view(args.resources)
    for domain in sorted(view.domains):
        sts = _sts_records(view, domain)
        sts_known = [record for record in sts if known(record.text)]
        if len(sts_known) > 1:
            for record in sts_known[1:]:
                report(
                    f"{len(sts_known)} v=STSv1 TXT records at _mta-sts.{domain}: with more than one, "
                    "senders treat the domain as having no policy at all (RFC 8461 §3.1). Remove every one "
                    "but the record the stack manages (mta-sts-discovery-sts).",
                    record.urn,
                )
        elif not sts and not view.unknown_names():
            report(
                f"the stack publishes a policy for {domain} but no v=STSv1 TXT record at "
                f"_mta-sts.{domain}, so senders never look for the policy (RFC 8461 §3.1). Keep the stack's "
                "DiscoveryRecords component.",
                None,
            )
        tls = [record for record in _tls_rpt_records(view, domain) if known(record.text)]
        for record in tls[1:]:
            report(
                f"{len(tls)} v=TLSRPTv1 TXT records at _smtp._tls.{domain}: with more than one, senders send "
                "no reports (RFC 8460 §3). Keep one record and list every address in the stack's `tlsRpt`.",
                record.urn,
            )


def validate_mx_covered(args: StackValidationArgs, report: ReportViolation) -> None:
    view = stack_view(args.resources)
    for domain in sorted(view.domains):
        mx_records = [r for r in view.records_at(domain) if r.type == "MX" and isinstance(r.content, str)]
        for published in view.policies_for(domain):
            policy = _parsed(published.text)
            if policy is None or policy.mode is Mode.NONE:
                continue
            for record in mx_records:
                host = normalize(record.content)
                if host == NULL_MX.rstrip(".") or policy.covers(host):
                    continue
                enforce = policy.mode is Mode.ENFORCE
                effect = "refuse to deliver to it" if enforce else "report failures for it"
                report(
                    f"MX host {host} of {domain} is not matched by any mx pattern of {published.source} "
                    f"({', '.join(policy.mx)}). In {policy.mode.value} mode senders {effect} "
                    "(RFC 8461 §5). Add it to the stack's `mx` config first, deploy, wait for senders to "
                    "refetch (max_age), and only then add the MX record (RFC 8461 §8).",
                    record.urn,
                )


def validate_policy_host_refuses_mail(args: StackValidationArgs, report: ReportViolation) -> None:
    view = stack_view(args.resources)
    for domain in sorted(view.domains):
        host = f"{POLICY_HOST_LABEL}.{domain}"
        records = view.records_at(host)
        if view.unknown_names() or any(not known(r.type, r.content) for r in records):
            continue
        mx = [r for r in records if r.type == "MX"]
        spf = _txt_of_kind(records, "spf")
        null_mx = [r for r in mx if normalize(r.content) == "" and r.priority in (0, None, UNKNOWN)]
        if not null_mx:
            report(
                f"{host} has no null MX (`MX 0 .`). It has an A record, so senders deliver mail for it to "
                "that address (implicit MX, RFC 5321 §5); the null MX says it takes none (RFC 7505). Keep "
                "the stack's PolicyHostRecords component.",
                None,
            )
        for record in mx:
            if record not in null_mx:
                report(
                    f"{host} has MX {record.content!r} beside the null MX; RFC 7505 §3 forbids other MX "
                    "records with it. Remove this record.",
                    record.urn,
                )
        if not any(r.text == SPF_NONE for r in spf):
            report(
                f"{host} has no `{SPF_NONE}` TXT record, so anyone may send mail as it (RFC 7208). Keep the "
                "stack's PolicyHostRecords component.",
                None,
            )
        for record in spf:
            if record.text != SPF_NONE:
                report(
                    f"{host} has SPF {record.text!r} beside or instead of `{SPF_NONE}`; two SPF records are "
                    "a permanent error (RFC 7208 §4.5). Remove this record.",
                    record.urn,
                )


def validate_pages_nojekyll(args: StackValidationArgs, report: ReportViolation) -> None:
    view = stack_view(args.resources)
    for urn, repository in view.pages:
        candidates = [
            path
            for _urn, file_repository, path in view.files
            if not known(repository, file_repository) or file_repository == repository
        ]
        if any(path == ".nojekyll" or not known(path) for path in candidates):
            continue
        report(
            f"GitHub Pages publishes repository {repository!r}, which has no `.nojekyll` file. Without it "
            "Jekyll drops dot-directories and /.well-known/mta-sts.txt is never served. "
            "Keep the `.nojekyll` file the stack writes for github-pages hosting.",
            urn,
        )


def validate_full_names(args: StackValidationArgs, report: ReportViolation) -> None:
    view = stack_view(args.resources)
    for record in view.records:
        name = record.name
        if not isinstance(name, str):
            continue
        if view.domains:
            full = any(name == domain or name.endswith("." + domain) for domain in view.domains)
            expected = f"under {' or '.join(sorted(view.domains))}"
        else:
            full = "." in name and name != "@"
            expected = "with the zone's name"
        if not full:
            report(
                f"{record.type} record {name!r} is not a full name {expected}. Cloudflare answers with full "
                "names, so a label shows a diff after every refresh "
                "(cloudflare/terraform-provider-cloudflare#7289). Write the full name, e.g. "
                f"{name}.{sorted(view.domains)[0] if view.domains else 'example.com'}.",
                record.urn,
            )


def validate_tls_rpt_present(args: StackValidationArgs, report: ReportViolation) -> None:
    view = stack_view(args.resources)
    for domain in sorted(view.domains):
        tls = _tls_rpt_records(view, domain)
        if view.unknown_names() or any(not known(r.text) for r in tls):
            continue
        valid = []
        for record in tls:
            try:
                valid.append(parse_tls_rpt(record.text))
            except ValueError as error:
                report(
                    f"_smtp._tls.{domain} holds {record.text!r}, which senders ignore: {error} "
                    "(RFC 8460 §3). Set the report addresses in the stack's `tlsRpt` and let the stack "
                    "write the record.",
                    record.urn,
                )
        if not tls:
            report(
                f"{domain} has no TLS-RPT record, so senders never tell you that TLS to your MX hosts fails, "
                "and you cannot know whether enforce would refuse mail (RFC 8460). Run `pulumi config set "
                f"--path 'tlsRpt[0]' mailto:tls-reports@{domain}`.",
                None,
            )


# --- The pack ------------------------------------------------------------------------------


def all_policies() -> list[CrossGuardPolicy]:
    mandatory, advisory = EnforcementLevel.MANDATORY, EnforcementLevel.ADVISORY
    return [
        ResourceValidationPolicy(
            name="policy-file-is-valid",
            description="The policy file in the repository (and the copy Netlify serves) is a valid RFC 8461 "
            "policy, using only the mx patterns the team allows.",
            validate=validate_policy_file,
            enforcement_level=mandatory,
            config_schema=PolicyConfigSchema(
                properties={
                    "allowedMxPatterns": {
                        "type": "array",
                        "items": {"type": "string"},
                        "default": [],
                        "description": "mx patterns a policy may list (a wildcard also allows the hosts it "
                        "matches); empty allows any.",
                    }
                }
            ),
        ),
        StackValidationPolicy(
            name="discovery-id-matches-policy",
            description="The _mta-sts TXT id is the id of the policy file the stack publishes.",
            validate=validate_discovery_id,
            enforcement_level=mandatory,
        ),
        StackValidationPolicy(
            name="one-discovery-record-per-domain",
            description="Exactly one _mta-sts TXT record and at most one _smtp._tls TXT record per domain.",
            validate=validate_one_record_each,
            enforcement_level=mandatory,
        ),
        StackValidationPolicy(
            name="mx-hosts-covered-by-policy",
            description="In testing or enforce mode, every MX record the stack manages for the domain is "
            "matched by a policy mx pattern.",
            validate=validate_mx_covered,
            enforcement_level=mandatory,
        ),
        ResourceValidationPolicy(
            name="policy-host-dns-only",
            description="The policy host's records are DNS-only (not proxied), and it has no CNAME.",
            validate=validate_policy_host_dns_only,
            enforcement_level=mandatory,
        ),
        StackValidationPolicy(
            name="policy-host-refuses-mail",
            description="The policy host publishes the null MX and `v=spf1 -all`.",
            validate=validate_policy_host_refuses_mail,
            enforcement_level=mandatory,
        ),
        StackValidationPolicy(
            name="pages-repository-has-nojekyll",
            description="With GitHub Pages hosting, the repository has a .nojekyll file.",
            validate=validate_pages_nojekyll,
            enforcement_level=mandatory,
        ),
        StackValidationPolicy(
            name="dns-record-names-are-full",
            description="Cloudflare record names are full names, not labels.",
            validate=validate_full_names,
            enforcement_level=mandatory,
        ),
        ResourceValidationPolicy(
            name="enforce-max-age-at-least-minimum",
            description="An enforce policy has a max_age of at least a day (configurable).",
            validate=validate_enforce_max_age,
            enforcement_level=advisory,
            config_schema=PolicyConfigSchema(
                properties={
                    "minimumMaxAge": {
                        "type": "integer",
                        "minimum": 0,
                        "default": DEFAULT_MINIMUM_MAX_AGE,
                        "description": "Smallest max_age, in seconds, that enforce mode accepts without "
                        "advice.",
                    }
                }
            ),
        ),
        StackValidationPolicy(
            name="tls-rpt-record-present",
            description="Every domain publishes a valid TLS-RPT record.",
            validate=validate_tls_rpt_present,
            enforcement_level=advisory,
        ),
        ResourceValidationPolicy(
            name="mode-none-is-a-removal-step",
            description="mode none retires the policy; the removal procedure has a next step.",
            validate=validate_mode_none,
            enforcement_level=advisory,
        ),
        ResourceValidationPolicy(
            name="policy-repository-protected",
            description="The policy repository is protected from deletion.",
            validate=validate_repository_protected,
            enforcement_level=advisory,
        ),
    ]
