"""The MTA-STS and TLS-RPT domain: what a mail domain should publish, as plain values.

Nothing here imports Pulumi. The stack program, the command line (`render`, `verify`)
and the CrossGuard policy pack all ask this package, so each rule lives in one place.
Rules cite the sections of RFC 8461 (MTA-STS), RFC 8460 (TLS-RPT) and RFC 7505 (null MX).
"""

import sys

try:
    from mtasts.config import ConfigError, Hosting, Mode, Settings, parse_settings
    from mtasts.desired import DesiredState, desired_state
    from mtasts.errors import MtaStsError, ProblemsError
    from mtasts.policy import Policy, PolicyError, parse_policy, policy_id
    from mtasts.records import DnsRecord
except ModuleNotFoundError as error:
    # `python -m mtasts` imports this package first, with sys.argv[0] still "-m": outside the
    # virtualenv, say how to run it instead of a traceback.
    if sys.argv[:1] == ["-m"]:
        from mtasts._outside_venv import explain

        explain(error)
    raise

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
