"""The pack's registry: every rule with its name, level and config. The rules live in
`policy/validators/` by area, and each asks the `mtasts` core; `__main__.py` only builds the
`PolicyPack` from this list.
"""

from __future__ import annotations

from pulumi_policy import (
    EnforcementLevel,
    PolicyConfigSchema,
    ResourceValidationPolicy,
    StackValidationPolicy,
)
from pulumi_policy.policy import Policy as CrossGuardPolicy

from policy.validators.discovery import (
    validate_discovery_id,
    validate_one_record_each,
    validate_tls_rpt_present,
)
from policy.validators.hosting import (
    validate_full_names,
    validate_pages_nojekyll,
    validate_repository_protected,
)
from policy.validators.mail_routing import (
    validate_live_mx_covered,
    validate_live_mx_covered_in_testing,
    validate_live_mx_tls,
    validate_live_mx_tls_in_testing,
    validate_mx_covered,
    validate_policy_host_dns_only,
    validate_policy_host_refuses_mail,
)
from policy.validators.policy_file import (
    DEFAULT_MINIMUM_MAX_AGE,
    validate_enforce_max_age,
    validate_mode_none,
    validate_policy_file,
)


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
        StackValidationPolicy(
            name="live-mx-hosts-covered-by-policy",
            description="In enforce mode, every MX host the zone held when the program looked (not only "
            "those the stack manages) is matched by a policy mx pattern.",
            validate=validate_live_mx_covered,
            enforcement_level=mandatory,
        ),
        StackValidationPolicy(
            name="live-mx-hosts-covered-in-testing",
            description="In testing mode, every MX host the zone holds is matched by a policy mx pattern "
            "(senders report the gap; enforce would refuse the mail).",
            validate=validate_live_mx_covered_in_testing,
            enforcement_level=advisory,
        ),
        StackValidationPolicy(
            name="live-mx-hosts-tls-valid",
            description="In enforce mode, every live MX host the policy covers offers STARTTLS with a "
            "certificate valid for its name, as the program probed it before anything registered.",
            validate=validate_live_mx_tls,
            enforcement_level=mandatory,
        ),
        StackValidationPolicy(
            name="live-mx-hosts-tls-in-testing",
            description="In testing mode, a live MX host failing STARTTLS or its certificate (senders report "
            "it; enforce would refuse the mail), or an MX host whose TLS could not be checked.",
            validate=validate_live_mx_tls_in_testing,
            enforcement_level=advisory,
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
