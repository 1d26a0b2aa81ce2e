"""Run the independent validators on domains and print their verdicts as one JSON document.

Runs inside the twin's namespace (`twin.python_run([PROBE, ...])`), so its DNS and HTTPS
traffic reaches only the twin. Not imported by the tests: it is a script.

    probe.py checkdmarc --nameserver IP DOMAIN...   checkdmarc's check_mta_sts and
                                                    check_smtp_tls_reporting per domain
    probe.py postfix DOMAIN...                      postfix-mta-sts-resolver's STSResolver,
                                                    the code behind `mta-sts-query`
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


async def _postfix(domains: list[str]) -> dict[str, Any]:
    from postfix_mta_sts_resolver.resolver import STSResolver

    resolver = STSResolver(loop=asyncio.get_running_loop(), timeout=10)
    verdicts: dict[str, Any] = {}
    for domain in domains:
        status, result = await resolver.resolve(domain)
        policy_id, policy = result if result else (None, None)
        verdicts[domain] = {"status": status.name, "id": policy_id, "policy": policy}
    return verdicts


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("validator", choices=["checkdmarc", "postfix"])
    parser.add_argument("--nameserver", default="10.53.0.1")
    parser.add_argument("domains", nargs="+")
    args = parser.parse_args()
    started = time.perf_counter()
    if args.validator == "checkdmarc":
        verdicts = checkdmarc_verdicts(args.domains, args.nameserver)
    else:
        verdicts = asyncio.run(_postfix(args.domains))
    json.dump({"seconds": time.perf_counter() - started, "verdicts": verdicts}, sys.stdout, default=str)
    return 0


if __name__ == "__main__":
    sys.exit(main())
