"""The MTA-STS and TLS-RPT domain: what a mail domain should publish, as plain values.

Nothing here imports Pulumi. The stack program, the command line (`render`, `verify`)
and the CrossGuard policy pack all ask this package, so each rule lives in one place.
Rules cite the sections of RFC 8461 (MTA-STS), RFC 8460 (TLS-RPT) and RFC 7505 (null MX).
"""

from mtasts.config import ConfigError, Hosting, Mode, Settings, parse_settings
from mtasts.desired import DesiredState, desired_state
from mtasts.errors import MtaStsError, ProblemsError
from mtasts.policy import Policy, PolicyError, parse_policy, policy_id
from mtasts.records import DnsRecord

__all__ = [
    "ConfigError",
    "DesiredState",
    "DnsRecord",
    "Hosting",
    "Mode",
    "MtaStsError",
    "Policy",
    "PolicyError",
    "ProblemsError",
    "Settings",
    "desired_state",
    "parse_policy",
    "parse_settings",
    "policy_id",
]
