"""Run the validators inside a twin's namespace and return their verdicts (see probe.py)."""

from __future__ import annotations

import json
import pickle
import subprocess
from collections.abc import Mapping, Sequence
from typing import Any

from mtasts.desired import DesiredState

from .servers import DNS_ADDRESS, PROBE, Twin


def _probe(twin: Twin, argv: Sequence[str], timeout: float = 300) -> dict[str, Any]:
    result = twin.python_run([str(PROBE), *argv], timeout=timeout)
    if result.returncode != 0:
        raise AssertionError(f"probe {argv[0]} failed ({result.returncode}):\n{result.stderr[-4000:]}")
    verdicts: dict[str, Any] = json.loads(result.stdout)["verdicts"]
    return verdicts


def checkdmarc(twin: Twin, domains: Sequence[str]) -> dict[str, Any]:
    """Domain → {"mta_sts": check_mta_sts(...), "tls_rpt": check_smtp_tls_reporting(...)}."""
    return _probe(twin, ["checkdmarc", "--nameserver", twin.dns_address, *domains])


def mail(twin: Twin, domains: Sequence[str]) -> dict[str, Any]:
    """Domain → {"spf": check_spf(...), "dmarc": check_dmarc(...)} from checkdmarc."""
    return _probe(twin, ["mail", "--nameserver", twin.dns_address, *domains])


def postfix(twin: Twin, domains: Sequence[str]) -> dict[str, Any]:
    """Domain → {"status": VALID|NONE|FETCH_ERROR, "id": ..., "policy": {...}} from STSResolver."""
    return _probe(twin, ["postfix", *domains])


def verify(
    twin: Twin, domains: Sequence[str], expected: Mapping[str, DesiredState] | None = None
) -> dict[str, Any]:
    """Domain → `DomainReport.to_dict()` from `mtasts.verify.verify_domains`, run in the namespace."""
    argv = ["verify", "--nameserver", twin.dns_address, "--ca-file", str(twin.ca_file)]
    if expected:
        path = twin.dir / f"expected-{len(list(twin.dir.glob('expected-*')))}.pickle"
        path.write_bytes(pickle.dumps(dict(expected)))
        argv += ["--expected", str(path)]
    return _probe(twin, [*argv, *domains])


def verify_cli(twin: Twin, arguments: Sequence[str]) -> subprocess.CompletedProcess[str]:
    """`python -m mtasts verify ...` in the namespace, pointed at the twin's DNS and CA."""
    return twin.python_run(
        [
            "-m",
            "mtasts",
            "verify",
            "--nameserver",
            twin.dns_address,
            "--ca-file",
            str(twin.ca_file),
            *arguments,
        ],
        timeout=120,
    )


def mta_sts_query(twin: Twin, domain: str) -> subprocess.CompletedProcess[str]:
    """postfix-mta-sts-resolver's own command line, as a user would run it."""
    return twin.run([str(twin.python_bin_dir() / "mta-sts-query"), domain], timeout=60)


def failing_checks(report: Mapping[str, Any]) -> dict[str, str]:
    """Check name → its worst status, for every check that warned or failed."""
    worst: dict[str, str] = {}
    for finding in report["findings"]:
        if finding["status"] == "fail" or (finding["status"] == "warn" and finding["check"] not in worst):
            worst[finding["check"]] = finding["status"]
    return worst


__all__ = [
    "DNS_ADDRESS",
    "checkdmarc",
    "failing_checks",
    "mail",
    "mta_sts_query",
    "postfix",
    "verify",
    "verify_cli",
]
