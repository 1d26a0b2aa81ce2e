"""The policy covers the MX hosts the zone really has: the program reads the live apex MX
records with the lookup it does for adoption, and refuses (enforce) or warns (testing)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from mtasts.rules.mx_tls import MxTls
from tests.pulumi_mocks import FailedRun, StackRun, zone_record

Run = Callable[..., StackRun]
FailingRun = Callable[..., FailedRun]
CONFIG = {"domain": "example.com", "tlsRpt": ["mailto:tls@example.com"], "mx": ["mail.example.com"]}
ZONE = [
    zone_record("mx1", "example.com", "MX", "mail.example.com", 10),
    zone_record("mx2", "example.com", "MX", "backup.example.net", 20),
]


def test_under_enforce_an_uncovered_live_mx_host_stops_the_program_before_anything_registers(
    failing_stack: FailingRun,
) -> None:
    failed = failing_stack({**CONFIG, "mode": "enforce"}, zone=ZONE)
    message = str(failed.error)
    assert failed.registered == []
    assert "MX host backup.example.net of example.com matches no policy mx pattern" in message
    assert "`scripts/pulumi config set --path 'mx[1]' backup.example.net`" in message
    assert "mail.example.com " not in message.replace("(mail.example.com)", "")


def test_under_testing_an_uncovered_live_mx_host_is_a_warning_naming_it(stack: Run) -> None:
    run = stack({**CONFIG, "mode": "testing"}, zone=ZONE)
    [warning] = [w for w in run.warnings if "backup.example.net" in w]
    assert "reported as failing" in warning and "mx[1]" in warning
    assert run.dns_records()


def test_live_mx_hosts_the_policy_covers_pass_silently(stack: Run) -> None:
    run = stack({**CONFIG, "mode": "enforce", "mx": ["mail.example.com", "*.example.net"]}, zone=ZONE)
    assert not [w for w in run.warnings if "MX host" in w]


def test_a_null_mx_at_the_apex_needs_no_pattern(stack: Run) -> None:
    run = stack({**CONFIG, "mode": "enforce"}, zone=[zone_record("null", "example.com", "MX", ".", 0)])
    assert not [w for w in run.warnings if "MX host" in w]


def test_a_retiring_stack_is_not_stopped_by_its_mx_hosts(stack: Run) -> None:
    run = stack({**CONFIG, "mode": "enforce", "retire": True}, zone=ZONE)
    assert run.dns_records() and not [w for w in run.warnings if "matches no policy mx pattern" in w]


def test_the_apex_is_looked_up_with_the_records_adoption_asks_for(stack: Run) -> None:
    run = stack(CONFIG)
    asked = {args["name"]["exact"] for token, args in run.calls if token.endswith("getDnsRecords")}
    assert "example.com" in asked and "_mta-sts.example.com" in asked


def test_verify_stack_reports_a_live_mx_host_the_stacks_policy_does_not_cover() -> None:
    from mtasts.config import parse_settings
    from mtasts.desired import desired_state
    from mtasts.verify import Status
    from mtasts.verify.checks import stack_drift
    from mtasts.verify.dns import DnsResult

    state = desired_state(parse_settings({**CONFIG, "mode": "enforce"}))
    records = {
        (r.name, r.type): DnsResult(
            r.name, r.type, (f"{r.priority} {r.value}" if r.type == "MX" else r.value,)
        )
        for r in state.records
        if r.type != "A"
    }
    records[("example.com", "MX")] = DnsResult(
        "example.com", "MX", ("10 mail.example.com", "20 backup.example.net")
    )
    findings = stack_drift.judge(state, state.policy_id, state.policy_text, records)
    [gap] = [f for f in findings if f.message.startswith("the stack's policy: ")]
    assert gap.status is Status.FAIL and "MX host backup.example.net" in gap.message


def test_the_pack_sees_the_live_mx_hosts_the_program_found_and_advises_under_testing(stack: Run) -> None:
    from tests.test_policy_pack import Res, check

    run = stack({**CONFIG, "mode": "testing"}, zone=ZONE)
    resources = [Res(r.type, r.name, dict(r.inputs)) for r in run.resources]
    [advice] = check("live-mx-hosts-covered-in-testing", resources)
    assert "MX host backup.example.net" in advice.message and advice.urn and "MtaStsDomain" in advice.urn
    assert check("live-mx-hosts-covered-by-policy", resources) == []


def test_the_pack_refuses_an_enforce_policy_that_leaves_a_live_mx_host_uncovered() -> None:
    from policy.view import MTASTS_DOMAIN
    from tests.test_policy_pack import Res, check, core_stack

    resources = core_stack(mode="enforce", mx=("mail.example.com",))
    resources.append(
        Res(MTASTS_DOMAIN, "mta-sts", {"domain": "example.com", "liveMxHosts": ["backup.example.net"]})
    )
    [violation] = check("live-mx-hosts-covered-by-policy", resources)
    assert "backup.example.net" in violation.message and "under enforce" in violation.message
    resources[-1].props["liveMxHosts"] = ["mail.example.com"]
    assert check("live-mx-hosts-covered-by-policy", resources) == []


# The live MX hosts' TLS, probed before anything registers

TLS_CONFIG = {**CONFIG, "mx": ["mail.example.com", "*.example.net"]}


def expired(host: str, address: str = "192.0.2.26") -> list[MxTls]:
    return [
        MxTls(host, "192.0.2.25", "passed"),
        MxTls(host, address, "failed", "certificate-expired", "the certificate expired on 2026-11-30",
              "renew the MX host's certificate and reload the mail server"),
    ]  # fmt: skip


def test_under_enforce_an_mx_host_failing_tls_stops_the_run_naming_host_address_type_and_fix(
    failing_stack: FailingRun,
) -> None:
    failed = failing_stack(
        {**TLS_CONFIG, "mode": "enforce"},
        zone=ZONE,
        mx_tls={"backup.example.net": expired("backup.example.net")},
    )
    message = str(failed.error)
    assert failed.registered == []
    assert "MX host backup.example.net (192.0.2.26) of example.com fails TLS" in message
    assert "certificate-expired" in message and "renew the MX host's certificate" in message
    assert "192.0.2.25" not in message  # the address that passes is not blamed


def test_under_testing_an_mx_host_failing_tls_is_a_warning(stack: Run) -> None:
    run = stack(
        {**TLS_CONFIG, "mode": "testing"},
        zone=ZONE,
        mx_tls={"backup.example.net": expired("backup.example.net")},
    )
    [warning] = [w for w in run.warnings if "fails TLS" in w]
    assert "backup.example.net (192.0.2.26)" in warning and "enforce would refuse" in warning
    assert run.dns_records()


def test_port_25_blocked_where_the_program_runs_is_one_warning_never_a_stop(stack: Run) -> None:
    blocked = {
        host: [MxTls(host, "192.0.2.25", "could-not-check", None, "no connection within 10 s")]
        for host in ("mail.example.com", "backup.example.net")
    }
    run = stack({**TLS_CONFIG, "mode": "enforce"}, zone=ZONE, mx_tls=blocked)
    assert run.dns_records()
    [warning] = [w for w in run.warnings if "could not be checked" in w]
    assert "no connection within 10 s" in warning


def test_only_covered_hosts_are_probed_and_none_under_mode_none(stack: Run) -> None:
    run = stack({**CONFIG, "mode": "testing"}, zone=ZONE)
    assert run.probed == ["mail.example.com"]  # backup.example.net is mx-coverage's finding
    assert stack({**CONFIG, "mode": "none"}, zone=ZONE).probed == []


def test_the_pack_refuses_under_enforce_what_the_program_saw_fail() -> None:
    from policy.view import MTASTS_DOMAIN
    from tests.test_policy_pack import Res, check, core_stack

    resources = core_stack(mode="enforce", mx=("mail.example.com",))
    seen = [entry.to_dict() for entry in expired("mail.example.com")]
    resources.append(Res(MTASTS_DOMAIN, "mta-sts", {"domain": "example.com", "liveMxTls": seen}))
    [violation] = check("live-mx-hosts-tls-valid", resources)
    assert "mail.example.com (192.0.2.26)" in violation.message and "certificate-expired" in violation.message
    resources[-1].props["liveMxTls"] = [MxTls("mail.example.com", "192.0.2.25", "passed").to_dict()]
    assert check("live-mx-hosts-tls-valid", resources) == []


def test_domains_that_share_mx_hosts_probe_them_once_per_run(monkeypatch: pytest.MonkeyPatch) -> None:
    # Every Proton domain of a many-domain stack has the same two MX hosts; a network that
    # drops port 25 would otherwise make each domain wait out the probe's timeouts.
    from mtasts import live
    from mtasts.verify.model import Finding, Status
    from mtasts.verify.mx_check import MxCheck

    asked: list[list[str]] = []

    def check(hosts: list[str], *, ca_file: str | None = None) -> MxCheck:
        asked.append(list(hosts))
        return MxCheck(findings=[Finding("mx-tls", Status.UNCHECKED, f"could not check {hosts[0]}")])

    monkeypatch.setattr("mtasts.verify.mx_check.check_mx_tls_sync", check)
    live.forget_probes()
    proton = ["mail.protonmail.ch", "mailsec.protonmail.ch"]

    first = live.probe_mx_tls(proton)
    again = [live.probe_mx_tls(proton) for _ in range(199)]
    other = live.probe_mx_tls(["mx.example.net"])

    assert asked == [proton, ["mx.example.net"]]
    assert all(seen == first for seen in again)
    assert [entry.message for entry in other] == ["could not check mx.example.net"]

    monkeypatch.setattr(live, "PROBE_REUSE_SECONDS", 0.0)  # a later run, long after
    live.probe_mx_tls(proton)
    assert asked[-1] == proton
    live.forget_probes()


def test_hundreds_of_mx_hosts_that_could_not_be_checked_are_one_warning_naming_three_reasons() -> None:
    from mtasts.rules import mx_tls

    seen = [
        MxTls("", "", "could-not-check", None, f"could not check mx{i}.example.net: no answer")
        for i in range(500)
    ]
    [warning] = mx_tls.judge("enforce", seen, domain="example.com")
    assert "could not check mx2.example.net: no answer" in warning.seen
    assert "mx3.example.net" not in warning.seen and "and 497 more" in warning.seen
    assert len(warning.seen) < 1000


def test_mx_hosts_none_of_which_answered_are_not_blamed_on_this_machines_port_25_alone() -> None:
    # A run of one domain cannot tell port 25 blocked here from every MX host of the domain down.
    from mtasts.rules import mx_tls

    down = [MxTls("mail.example.com", "192.0.2.25", "could-not-check", None, "connection refused")]
    [warning] = mx_tls.judge("enforce", down, domain="example.com")
    assert "port 25 is blocked" in warning.seen and "the MX hosts themselves" in warning.seen
    assert "if it cannot check them either" in warning.fix


def test_an_mx_address_not_answering_beside_one_that_did_is_the_hosts_not_this_machines() -> None:
    from mtasts.rules import mx_tls

    seen = [
        MxTls("mail.example.com", "192.0.2.25", "passed"),
        MxTls("mail.example.com", "192.0.2.26", "could-not-check", None, "no connection within 10 s"),
    ]
    [warning] = mx_tls.judge("enforce", seen, domain="example.com")
    assert "from a machine that may connect to port 25" not in warning.fix
    assert "check that the host accepts connections on port 25" in warning.fix


def many_failing(host: str, count: int, outcome: str = "failed") -> list[MxTls]:
    return [
        MxTls(host, f"10.0.{i // 256}.{i % 256}", outcome, "certificate-expired", "the certificate expired",
              "renew the MX host's certificate and reload the mail server")
        for i in range(count)
    ]  # fmt: skip


def test_hundreds_of_mx_addresses_failing_tls_stop_the_run_with_ten_named_and_the_rest_counted(
    failing_stack: FailingRun,
) -> None:
    failed = failing_stack(
        {**TLS_CONFIG, "mode": "enforce"},
        zone=ZONE,
        mx_tls={"backup.example.net": many_failing("backup.example.net", 300)},
    )
    message = str(failed.error)
    assert "backup.example.net (10.0.0.9) of example.com fails TLS" in message
    assert "(10.0.0.10)" not in message and "and 290 more" in message
    assert len(message) < 5000


def test_hundreds_of_mx_addresses_warning_under_testing_are_ten_warnings_and_a_count(stack: Run) -> None:
    run = stack(
        {**TLS_CONFIG, "mode": "testing"},
        zone=ZONE,
        mx_tls={"backup.example.net": many_failing("backup.example.net", 300)},
    )
    tls = [w for w in run.warnings if "example.com" in w and ("fails TLS" in w or "more" in w)]
    assert len(tls) == 11 and "(10.0.0.9)" in tls[9] and "290 more" in tls[10]
    assert run.dns_records()


@pytest.mark.parametrize("outcome", ["failed", "could-not-check"])
def test_an_mx_host_name_from_the_zone_is_shown_escaped(outcome: str) -> None:
    # The name comes from the Cloudflare zone (an API answer), not from a DNS text that
    # dnspython escapes: an ESC or CR/LF in it must not reach `pulumi up`'s diagnostics.
    from mtasts.rules import mx_tls

    seen = [
        MxTls("mx\x1b[2J\r\nok.example.com", "192.0.2.1", outcome, "certificate-expired", "expired"),
        MxTls("mx.example.com", "192.0.2.2", "passed"),
    ]
    [finding] = mx_tls.judge("testing", seen, domain="example.com")
    assert "\x1b" not in finding.seen and "\r" not in finding.seen and "\n" not in finding.seen
    assert "mx\\x1b[2J\\r\\nok.example.com (192.0.2.1)" in finding.seen


def test_an_uncovered_mx_host_is_shown_escaped_and_a_dns_texts_escapes_stay_single() -> None:
    from mtasts.config import parse_settings
    from mtasts.live import mx_fix
    from mtasts.rules import mx_coverage

    raw, dns_text = "evil\x1b[2J.example.com", "a\\032b.example.com"  # the API's, dnspython's
    found = mx_coverage.judge("testing", ["mail.example.com"], [raw, dns_text], domain="example.com")
    assert [finding.subject for finding in found] == [raw, dns_text]  # matched as it is
    shown = " ".join(f"{finding.seen} {finding.fix}" for finding in found)
    assert "\x1b" not in shown and "evil\\x1b[2J.example.com" in shown
    assert "a\\032b.example.com" in shown and "a\\\\032b" not in shown
    settings = parse_settings({"domain": "example.com", "mx": ["mail.example.com"]})
    assert "\x1b" not in mx_fix(settings, found[0])
