"""Run the independent validators on domains and print their verdicts as one JSON document.

Runs inside the twin's namespace (`twin.python_run([PROBE, ...])`), so its DNS and HTTPS
traffic reaches only the twin. Not imported by the tests: it is a script.

    probe.py checkdmarc --nameserver IP DOMAIN...   checkdmarc's check_mta_sts and
                                                    check_smtp_tls_reporting per domain
    probe.py mail --nameserver IP DOMAIN...         checkdmarc's check_spf and check_dmarc
    probe.py postfix DOMAIN...                      postfix-mta-sts-resolver's STSResolver,
                                                    the code behind `mta-sts-query`
    probe.py verify --nameserver IP --ca-file PEM [--expected PICKLE] DOMAIN...
                                                    mtasts.verify.verify_domains, reports as dicts
    probe.py readiness --expected-text FILE --timeout S [--settle S] DOMAIN
                                                    the stack's readiness provider, waiting for
                                                    the policy text in FILE to be served from
                                                    every address for the settling window
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from typing import Any


def checkdmarc_verdicts(domains: list[str], nameserver: str) -> dict[str, Any]:
    from checkdmarc.mta_sts import check_mta_sts
    from checkdmarc.smtp_tls_reporting import check_smtp_tls_reporting

    verdicts: dict[str, Any] = {}
    for domain in domains:
        verdicts[domain] = {
            "mta_sts": check_mta_sts(domain, nameservers=[nameserver], timeout=5.0),
            "tls_rpt": check_smtp_tls_reporting(domain, nameservers=[nameserver], timeout=5.0),
        }
    return verdicts


def mail_verdicts(domains: list[str], nameserver: str) -> dict[str, Any]:
    from checkdmarc.dmarc import check_dmarc
    from checkdmarc.spf import check_spf

    return {
        domain: {
            "spf": check_spf(domain, nameservers=[nameserver], timeout=5.0),
            "dmarc": check_dmarc(domain, nameservers=[nameserver], timeout=5.0),
        }
        for domain in domains
    }


async def _postfix(domains: list[str]) -> dict[str, Any]:
    from postfix_mta_sts_resolver.resolver import STSResolver

    resolver = STSResolver(loop=asyncio.get_running_loop(), timeout=10)
    verdicts: dict[str, Any] = {}
    for domain in domains:
        status, result = await resolver.resolve(domain)
        policy_id, policy = result if result else (None, None)
        verdicts[domain] = {"status": status.name, "id": policy_id, "policy": policy}
    return verdicts


def verify_reports(domains: list[str], nameserver: str, ca_file: str, expected: str | None) -> dict[str, Any]:
    import pickle

    from mtasts.verify import VerifyOptions, verify_domains

    states = {}
    if expected:
        with open(expected, "rb") as file:
            states = pickle.load(file)  # written by the test process that built the twin
    options = VerifyOptions(nameserver=nameserver, ca_file=ca_file, timeout=5.0)
    reports = asyncio.run(verify_domains(domains, options, expected=states))
    return {report.domain: report.to_dict() for report in reports}


def readiness(domain: str, expected_text: str, timeout: float, settle: float) -> dict[str, Any]:
    """Drive `PolicyReadinessProvider.create` as the Pulumi engine would, with short delays and a
    settling window of `settle` seconds instead of the stack's minute or more."""
    from pulumi_mta_sts.readiness import PolicyReadinessProvider

    from mtasts.policy import policy_id

    log: list[str] = []
    provider = PolicyReadinessProvider(first_delay=0.2, max_delay=0.5, settle_floor=settle, log=log.append)
    props = {
        "domain": domain,
        "policy_text": expected_text,
        "policy_id": policy_id(expected_text),
        "timeout_seconds": timeout,
    }
    started = time.monotonic()
    try:
        result = provider.create(props)
    except Exception as error:
        after = time.monotonic() - started
        return {"ok": False, "after": after, "error": f"{type(error).__name__}: {error}", "log": log}
    return {"ok": True, "after": time.monotonic() - started, "id": result.id, "log": log}


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("validator", choices=["checkdmarc", "mail", "postfix", "verify", "readiness"])
    parser.add_argument("--nameserver", default="10.53.0.1")
    parser.add_argument("--ca-file")
    parser.add_argument("--expected")
    parser.add_argument("--expected-text")
    parser.add_argument("--timeout", type=float, default=5.0)
    parser.add_argument("--settle", type=float, default=1.0, help="readiness: the settling window's floor")
    parser.add_argument("domains", nargs="+")
    args = parser.parse_args()
    started = time.perf_counter()
    verdicts: dict[str, Any]
    if args.validator == "checkdmarc":
        verdicts = checkdmarc_verdicts(args.domains, args.nameserver)
    elif args.validator == "mail":
        verdicts = mail_verdicts(args.domains, args.nameserver)
    elif args.validator == "postfix":
        verdicts = asyncio.run(_postfix(args.domains))
    elif args.validator == "verify":
        verdicts = verify_reports(args.domains, args.nameserver, args.ca_file, args.expected)
    else:
        with open(args.expected_text) as file:
            verdicts = readiness(args.domains[0], file.read(), args.timeout, args.settle)
    json.dump({"seconds": time.perf_counter() - started, "verdicts": verdicts}, sys.stdout, default=str)
    return 0


if __name__ == "__main__":
    sys.exit(main())
