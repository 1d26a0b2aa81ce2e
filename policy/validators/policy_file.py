"""The policy document the stack publishes: valid for the strictest sender, and sensibly set."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from pulumi_policy import ReportViolation, ResourceValidationArgs

from mtasts.names import normalize
from mtasts.policy import POLICY_PATH, Mode
from mtasts.rules import mx_coverage, policy_file
from policy.view import NETLIFY_SITE, REPOSITORY_FILE, prop

DEFAULT_MINIMUM_MAX_AGE = policy_file.MIN_ENFORCE_MAX_AGE  # what `render` and `verify` warn under, too
# Where a user sets the policy's mx patterns: this repository's program reads them from the stack
# config (`mta-sts:mx`), any other program passes them to the MtaStsDomain component, whose schema
# input is `mx` (so in Python, TypeScript and YAML; Go and C# capitalise it, `Mx`).
MX_INPUT = (
    "`mx` (the stack's `mx` config in this repository's program, "
    "the MtaStsDomain `mx` argument in other programs)"
)
# The same two places for the policy's other fields; `maxAge` is `max_age` in Python.
POLICY_INPUTS = (
    "the stack's config in this repository's program, the MtaStsDomain arguments in other programs"
)


def parsed(text: str) -> policy_file.ParsedPolicy | None:
    """The policy a sender reads, or None when it reads none (policy-file-is-valid says why)."""
    result = policy_file.parse(text)
    return result if result.valid else None


def policy_file_text(args: ResourceValidationArgs) -> str | None:
    """The repository's policy file, the one document every hosting publishes from."""
    if args.resource_type != REPOSITORY_FILE or prop(args.props, "file") != POLICY_PATH:
        return None
    content = prop(args.props, "content")
    return content if isinstance(content, str) else None


def _config_number(config: Mapping[str, Any], key: str, default: int) -> int:
    value = config.get(key, default)
    return int(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else default


def validate_policy_file(args: ResourceValidationArgs, report: ReportViolation) -> None:
    """RFC 8461 §3.2: the repository file, and the copy Netlify serves, parse as the strictest
    sender parses."""
    documents: list[tuple[str, str]] = []
    text = policy_file_text(args)
    if text is not None:
        documents.append((f"{POLICY_PATH} in the policy repository", text))
    if args.resource_type == NETLIFY_SITE:
        files = prop(args.props, "files")
        served = prop(files, POLICY_PATH) if isinstance(files, Mapping) else None
        if isinstance(served, str):
            documents.append((f"{POLICY_PATH} deployed to Netlify", served))
    allowed = [normalize(p) for p in args.get_config().get("allowedMxPatterns") or [] if isinstance(p, str)]
    for where, document in documents:
        result = policy_file.parse(document)
        # What we publish must parse under the strictest reading: a warning is a violation too.
        if result.findings:
            report(
                f"{where} is not a valid RFC 8461 policy: {'; '.join(f.seen for f in result.findings)}. "
                f"Senders ignore an invalid policy. Set mode, maxAge and mx ({POLICY_INPUTS}) and let them "
                "render the file (`python -m mtasts render` shows it); do not edit the file by hand.",
                None,
            )
            continue
        refused = [pattern for pattern in result.mx if not _allowed(pattern, allowed)] if allowed else []
        if refused:
            report(
                f"{where} lists mx {', '.join(refused)}, which this team does not allow (policy-pack "
                f"config allowedMxPatterns: {', '.join(allowed)}). Use an allowed mail provider in "
                f"{MX_INPUT}, or add the pattern to allowedMxPatterns in the policy-pack config.",
                None,
            )


def _allowed(pattern: str, allowed: Iterable[str]) -> bool:
    """A policy pattern is allowed if listed, or (a host name) if an allowed wildcard matches it."""
    pattern = normalize(pattern)
    return any(pattern == entry or mx_coverage.matches(entry, pattern) for entry in allowed)


def validate_enforce_max_age(args: ResourceValidationArgs, report: ReportViolation) -> None:
    text = policy_file_text(args)
    policy = parsed(text) if text is not None else None
    minimum = _config_number(args.get_config(), "minimumMaxAge", DEFAULT_MINIMUM_MAX_AGE)
    if (
        policy is not None
        and policy.mode is Mode.ENFORCE
        and policy.max_age is not None
        and policy.max_age < minimum
    ):
        report(
            f"mode is enforce with max_age {policy.max_age} s, under {minimum} s. A sender that has not "
            "seen the domain for longer than max_age has no policy and accepts a downgraded connection "
            f"(RFC 8461 §5). Set maxAge to {max(minimum, 604_800)} s (a week is common): "
            f"`scripts/pulumi config set maxAge {max(minimum, 604_800)}` in this repository's program, "
            "the MtaStsDomain `maxAge` argument (`max_age` in Python) in other programs.",
            None,
        )


def validate_mode_none(args: ResourceValidationArgs, report: ReportViolation) -> None:
    text = policy_file_text(args)
    policy = parsed(text) if text is not None else None
    if policy is not None and policy.mode is Mode.NONE:
        report(
            "mode is none: this policy retires MTA-STS (RFC 8461 §8.3). Keep this policy served and its "
            "_mta-sts record published until the largest max_age ever served has passed since this "
            "deploy (the stack's `retire` setting keeps it so); only then run `scripts/pulumi destroy` to "
            "remove the _mta-sts record and the policy host. "
            "Removing them earlier leaves senders enforcing the old cached policy.",
            None,
        )
