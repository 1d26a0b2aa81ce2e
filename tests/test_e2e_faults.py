"""The fault matrix on real servers: each fault injected into one twin, judged by every validator.

One twin serves one domain per fault (plus a healthy control). For each fault `verify`
must name it on the right check, with the status the RFC calls for and a reason that says
what it saw; the table also records what the independent validators make of the same
deployment, so a change in their behaviour (or ours) shows up here. Faults:
tests/twin/faults.py.

Columns of MATRIX:
- check, status, reason: verify's finding (status of the worst finding on that check) and a
  word its message or fix must contain.
- checkdmarc: "valid", "warns" (valid, with a warning) or "invalid"; check_mta_sts, or
  check_smtp_tls_reporting for the TLS-RPT fault.
- postfix: postfix-mta-sts-resolver's STSFetchResult (VALID, NONE = no policy, FETCH_ERROR).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, NamedTuple

import pytest

from mtasts.config import parse_settings
from mtasts.desired import desired_state
from mtasts.records import DnsRecord
from tests.twin import FAULTS, Site, Twin, server_test_marks, site_from_state
from tests.twin import validators as run

pytestmark = server_test_marks()


class Row(NamedTuple):
    check: str
    status: str
    reason: str
    checkdmarc: str
    postfix: str


# fault: verify's check, status and reason; what checkdmarc and postfix-mta-sts-resolver observe.
MATRIX: dict[str, Row] = {
    "no-discovery-record": Row("discovery-record", "fail", "does not exist", "invalid", "NONE"),
    "two-discovery-records": Row("discovery-record", "fail", "2 'v=STSv1' records", "invalid", "NONE"),
    "invalid-id": Row(
        "discovery-record", "fail", "1–32 letters and digits", "invalid", "VALID"
    ),  # postfix: any id
    "policy-404": Row("policy-fetch", "fail", "HTTP 404", "invalid", "FETCH_ERROR"),
    "pages-without-nojekyll": Row("policy-fetch", "fail", "missing .nojekyll", "invalid", "FETCH_ERROR"),
    "policy-redirect": Row("policy-fetch", "fail", "HTTP 301", "invalid", "FETCH_ERROR"),
    "policy-text-html": Row("policy-fetch", "fail", "text/html", "warns", "FETCH_ERROR"),
    "certificate-other-host": Row("policy-fetch", "fail", "hostname mismatch", "invalid", "FETCH_ERROR"),
    "certificate-expired": Row("policy-fetch", "fail", "certificate has expired", "invalid", "FETCH_ERROR"),
    "policy-syntax-error": Row("policy-syntax", "fail", "'mode' must be", "invalid", "FETCH_ERROR"),
    "max-age-out-of-range": Row("policy-syntax", "fail", "'max_age' must be", "invalid", "FETCH_ERROR"),
    "uncovered-mx-under-enforce": Row("mx-coverage", "fail", "mx3.mail-elsewhere.net", "valid", "VALID"),
    "no-null-mx": Row("policy-host-null-mx", "warn", "no null MX", "valid", "VALID"),
    "no-spf": Row("policy-host-spf", "warn", "v=spf1 -all", "valid", "VALID"),
    "new-id-old-file": Row("stack-drift", "fail", "under the new id", "valid", "VALID"),
    "tls-rpt-bad-scheme": Row("tls-rpt", "fail", "http://reports", "invalid", "VALID"),
}

# The healthy deployment each fault starts from, varied across both hostings and modes.
_PAGES = {
    "pages-without-nojekyll",
    "policy-404",
    "policy-redirect",
    "certificate-expired",
    "no-null-mx",
    "invalid-id",
    "max-age-out-of-range",
}
_ENFORCE = {"uncovered-mx-under-enforce", "certificate-other-host", "policy-syntax-error", "no-spf"}
CONTROL = "healthy.faults.example"


def fault_domain(fault: str) -> str:
    return f"{fault}.faults.example"


def base_config(fault: str | None) -> dict[str, Any]:
    return {
        "domain": fault_domain(fault) if fault else CONTROL,
        "hosting": "github-pages" if fault in _PAGES else "netlify",
        "mode": "enforce" if fault in _ENFORCE else "testing",
        "tlsRpt": ["mailto:tls-reports@faults.example", "https://reports.faults.example/tlsrpt"],
    }


def test_the_matrix_covers_every_fault_the_twin_can_inject() -> None:
    assert set(MATRIX) == set(FAULTS)


@pytest.fixture(scope="module")
def observed() -> Iterator[tuple[Twin, dict[str, Any]]]:
    """One twin with every fault, and every validator's verdicts on it."""
    sites: list[Site] = [site_from_state(desired_state(parse_settings(base_config(None))))]
    for fault, inject in FAULTS.items():
        sites.append(inject(site_from_state(desired_state(parse_settings(base_config(fault))))))
    with Twin(sites) as twin:
        domains = [site.domain for site in sites]
        verdicts = {
            "checkdmarc": run.checkdmarc(twin, domains),
            "postfix": run.postfix(twin, domains),
            "verify": run.verify(twin, domains, {domain: twin.expected(domain) for domain in domains}),
        }
        yield twin, verdicts


def checkdmarc_verdict(result: dict[str, Any]) -> str:
    if not result["valid"]:
        return "invalid"
    return "warns" if result["warnings"] else "valid"


def test_the_healthy_control_passes_every_validator(observed: tuple[Twin, dict[str, Any]]) -> None:
    _, verdicts = observed
    assert not verdicts["verify"][CONTROL]["failed"], verdicts["verify"][CONTROL]["findings"]
    assert run.failing_checks(verdicts["verify"][CONTROL]) == {}
    assert checkdmarc_verdict(verdicts["checkdmarc"][CONTROL]["mta_sts"]) == "valid"
    assert checkdmarc_verdict(verdicts["checkdmarc"][CONTROL]["tls_rpt"]) == "valid"
    assert verdicts["postfix"][CONTROL]["status"] == "VALID"


@pytest.mark.parametrize("fault", MATRIX)
def test_verify_names_the_fault_on_the_right_check(observed: tuple[Twin, dict[str, Any]], fault: str) -> None:
    _, verdicts = observed
    row = MATRIX[fault]
    report = verdicts["verify"][fault_domain(fault)]
    statuses = run.failing_checks(report)
    assert statuses.get(row.check) == row.status, f"{fault}: verify said {statuses}: {report['findings']}"
    said = " ".join(
        f"{finding['message']} {finding['fix']}"
        for finding in report["findings"]
        if finding["check"] == row.check
    )
    assert row.reason.lower() in said.lower(), f"{fault}: {row.check} does not mention {row.reason!r}: {said}"
    fixes = [f["fix"] for f in report["findings"] if f["check"] == row.check and f["status"] == row.status]
    assert all(fixes), f"{fault}: a {row.status} on {row.check} must say how to fix it"
    assert report["failed"] is (row.status == "fail" or "fail" in statuses.values())


def test_verify_stack_names_a_live_mx_host_the_stacks_policy_misses_as_drift(
    observed: tuple[Twin, dict[str, Any]],
) -> None:
    # The fault stacks declare no apex MX (no `proton`): the gap is judged against the live ones.
    _, verdicts = observed
    report = verdicts["verify"][fault_domain("uncovered-mx-under-enforce")]
    drift = [f for f in report["findings"] if f["check"] == "stack-drift" and f["status"] != "info"]
    assert [f["status"] for f in drift] == ["fail"], drift
    assert "MX host mx3.mail-elsewhere.net" in drift[0]["message"] and drift[0]["fix"]


@pytest.mark.parametrize("fault", MATRIX)
def test_checkdmarc_observes_what_the_matrix_records(
    observed: tuple[Twin, dict[str, Any]], fault: str
) -> None:
    _, verdicts = observed
    result = verdicts["checkdmarc"][fault_domain(fault)]
    judged = result["tls_rpt"] if fault == "tls-rpt-bad-scheme" else result["mta_sts"]
    assert checkdmarc_verdict(judged) == MATRIX[fault].checkdmarc, f"{fault}: {judged}"


@pytest.mark.parametrize("fault", MATRIX)
def test_postfix_resolver_observes_what_the_matrix_records(
    observed: tuple[Twin, dict[str, Any]], fault: str
) -> None:
    _, verdicts = observed
    result = verdicts["postfix"][fault_domain(fault)]
    assert result["status"] == MATRIX[fault].postfix, f"{fault}: {result}"


def test_verify_command_exits_one_when_a_domain_has_a_fault(observed: tuple[Twin, dict[str, Any]]) -> None:
    twin, _ = observed
    healthy = run.verify_cli(twin, [CONTROL])
    faulty = run.verify_cli(twin, [CONTROL, fault_domain("policy-redirect")])
    assert healthy.returncode == 0, healthy.stdout + healthy.stderr
    assert faulty.returncode == 1, faulty.stdout + faulty.stderr
    assert "policy-fetch" in faulty.stdout


@dataclass(frozen=True)
class ZoneText(DnsRecord):
    """A TXT record whose value is written into the zone file as it is, `\\DDD` escapes and all:
    the bytes a hostile zone holds (ESC, CR LF), which `quote_txt` would write raw."""

    @property
    def content(self) -> str:
        return f'"{self.value}"'


def test_what_a_hostile_zone_publishes_is_printed_escaped_and_listed_in_part() -> None:
    # NSD serves a near miss at _mta-sts carrying ESC, CR LF and U+202E (its UTF-8 bytes),
    # made to print a line of its own that reads as a verdict, and 1,000 junk texts at
    # _smtp._tls (more than fit one UDP answer: the resolver asks again over TCP).
    domain = "hostile.faults.example"
    site = site_from_state(desired_state(parse_settings({"domain": domain})))
    forged = "v=STSv1\\027[2J\\013\\010  PASS  discovery-record: fine\\226\\128\\174"
    records = [ZoneText(key="forged", name=f"_mta-sts.{domain}", type="TXT", value=forged, ttl=300)]
    records += [
        ZoneText(key=f"junk-{n}", name=f"_smtp._tls.{domain}", type="TXT", value=f"junk {n}", ttl=300)
        for n in range(1000)
    ]
    with Twin([site], extra_records=records) as twin:
        result = run.verify_cli(twin, ["--smtp", "off", domain])
    out = result.stdout
    lines = out.split("\n")
    assert result.returncode == 1, out + result.stderr
    assert "\x1b" not in out and "\r" not in out and all(line.isprintable() for line in lines), out
    assert not any(line.lstrip().startswith("PASS  discovery-record: fine") for line in lines), out
    assert "'v=STSv1\\x1b[2J\\r\\n  PASS  discovery-record: fine\\u202e'" in out, out
    assert "and 997 more" in out and max(len(line) for line in lines) < 1000, out
