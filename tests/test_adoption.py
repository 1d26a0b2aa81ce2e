"""Adopting a live zone: the pure planner, and the program under mocks with a zone that
already holds some of the records (issue: adopting a domain that is already live)."""

from __future__ import annotations

from collections.abc import Callable

import pulumi
import pytest

from mtasts.adoption import MANAGED_COMMENT, ExistingRecord, plan_adoption
from mtasts.config import parse_settings
from mtasts.desired import desired_state
from tests.pulumi_mocks import LOOKED_UP_ZONE_ID, FailedRun, StackRun, zone_record

Run = Callable[..., StackRun]
DKIM = {n: f"{n}.domainkey.dabc.domains.proton.ch" for n in ("protonmail", "protonmail2", "protonmail3")}
CONFIG = {
    "domain": "example.com",
    "tlsRpt": ["mailto:tls@example.com"],
    "proton": {"verification": "abc123", "dkim": DKIM},
}
STATE = desired_state(parse_settings(CONFIG))
OLD_ID = "v=STSv1; id=20240101000000"


def existing(
    id: str, name: str, type: str, content: str, priority: int | None = None, **kw: str
) -> ExistingRecord:
    return ExistingRecord(id=id, name=name, type=type, content=content, priority=priority, **kw)


# --- the planner --------------------------------------------------------------------------


def test_an_empty_zone_imports_nothing_and_conflicts_with_nothing() -> None:
    plan = plan_adoption(STATE.records, [])
    assert (plan.imports, plan.conflicts) == ({}, ())


def test_a_stale_discovery_record_is_adopted_whatever_its_id() -> None:
    plan = plan_adoption(STATE.records, [existing("r1", "_mta-sts.example.com", "TXT", f'"{OLD_ID}"')])
    assert plan.imports == {"sts": "r1"}
    assert plan.conflicts == ()


def test_a_second_discovery_record_is_a_conflict_that_names_it() -> None:
    plan = plan_adoption(
        STATE.records,
        [
            existing("r1", "_mta-sts.example.com", "TXT", OLD_ID),
            existing("r2", "_mta-sts.example.com", "TXT", "v=STSv1; id=other"),
        ],
    )
    assert plan.imports == {"sts": "r1"}
    (conflict,) = plan.conflicts
    assert conflict.record.id == "r2"
    assert "v=STSv1" in conflict.message() and "delete it" in conflict.message()


def test_the_record_with_the_desired_value_is_the_one_adopted() -> None:
    desired_text = STATE.discovery_record.value
    plan = plan_adoption(
        STATE.records,
        [
            existing("r1", "_mta-sts.example.com", "TXT", OLD_ID),
            existing("r2", "_mta-sts.example.com", "TXT", f'"{desired_text}"'),
        ],
    )
    assert plan.imports == {"sts": "r2"}
    assert [c.record.id for c in plan.conflicts] == ["r1"]


def test_a_duplicate_spf_record_at_the_apex_is_refused_and_spf_includes_is_suggested() -> None:
    plan = plan_adoption(
        STATE.records,
        [
            existing("s1", "example.com", "TXT", "v=spf1 include:_spf.protonmail.ch ~all"),
            existing("s2", "example.com", "TXT", "v=spf1 include:_spf.google.com ~all"),
        ],
    )
    assert plan.imports == {"proton-spf": "s1"}
    (conflict,) = plan.conflicts
    assert conflict.record.id == "s2" and "proton.spfIncludes" in conflict.reason


def test_spf_is_matched_by_kind_not_by_name_only() -> None:
    # The apex's other TXT records (a site verification) are neither adopted nor refused.
    plan = plan_adoption(STATE.records, [existing("g", "example.com", "TXT", "google-site-verification=x")])
    assert (plan.imports, plan.conflicts) == ({}, ())


def test_a_cname_where_the_a_records_go_is_a_conflict() -> None:
    plan = plan_adoption(
        STATE.records, [existing("c", "mta-sts.example.com", "CNAME", "example.netlify.app")]
    )
    (conflict,) = plan.conflicts
    assert conflict.record.id == "c" and "CNAME" in conflict.reason
    assert plan.imports == {}


def test_a_txt_record_where_a_dkim_cname_goes_is_a_conflict() -> None:
    plan = plan_adoption(
        STATE.records, [existing("t", "protonmail._domainkey.example.com", "TXT", "v=DKIM1; k=rsa")]
    )
    assert [c.record.id for c in plan.conflicts] == ["t"]


def test_existing_dkim_cnames_and_mx_records_are_adopted_by_host() -> None:
    plan = plan_adoption(
        STATE.records,
        [
            existing("k1", "protonmail._domainkey.example.com", "CNAME", "old.target.example.net"),
            existing("m2", "example.com", "MX", "mailsec.protonmail.ch", 20),
            existing("m1", "example.com", "MX", "mail.protonmail.ch", 10),
        ],
    )
    assert plan.imports == {"proton-dkim-protonmail": "k1", "proton-mx-mail": "m1", "proton-mx-mailsec": "m2"}
    assert plan.conflicts == ()


def test_an_mx_host_the_stack_does_not_publish_is_refused() -> None:
    plan = plan_adoption(STATE.records, [existing("mx", "example.com", "MX", "mx.oldprovider.example", 5)])
    (conflict,) = plan.conflicts
    assert "policy does not cover it" in conflict.reason


def test_any_a_record_at_the_policy_host_is_adopted_and_extra_ones_refused() -> None:
    plan = plan_adoption(
        STATE.records,
        [
            existing("a1", "mta-sts.example.com", "A", "192.0.2.1"),
            existing("a2", "mta-sts.example.com", "A", "192.0.2.2"),
        ],
    )
    assert plan.imports == {"a": "a1"}
    assert [c.record.id for c in plan.conflicts] == ["a2"]


def test_records_this_stack_made_are_neither_imported_nor_refused() -> None:
    ours = existing("o", "_mta-sts.example.com", "TXT", OLD_ID, comment=MANAGED_COMMENT)
    plan = plan_adoption(STATE.records, [ours])
    assert (plan.imports, plan.conflicts) == ({}, ())
    # ...but a hand-made second one next to ours still is
    plan = plan_adoption(STATE.records, [ours, existing("h", "_mta-sts.example.com", "TXT", OLD_ID)])
    assert plan.imports == {} and [c.record.id for c in plan.conflicts] == ["h"]


def test_with_adoption_off_a_matching_record_is_a_conflict_not_an_import() -> None:
    plan = plan_adoption(STATE.records, [existing("r1", "_mta-sts.example.com", "TXT", OLD_ID)], adopt=False)
    assert plan.imports == {}
    (conflict,) = plan.conflicts
    assert "'adopt' is false" in conflict.reason


# --- the program under mocks --------------------------------------------------------------

LIVE_ZONE = [
    zone_record("rec-sts", "_mta-sts.example.com", "TXT", f'"{OLD_ID}"'),
    zone_record("rec-a", "mta-sts.example.com", "A", "75.2.60.5"),
    zone_record("rec-mx", "example.com", "MX", "mail.protonmail.ch", priority=10),
    zone_record("rec-spf", "example.com", "TXT", '"v=spf1 include:_spf.protonmail.ch ~all"'),
    zone_record("rec-verify", "example.com", "TXT", '"protonmail-verification=abc123"'),
    zone_record("rec-site", "example.com", "TXT", '"google-site-verification=keep-me"'),
    zone_record("rec-other", "www.example.com", "A", "192.0.2.80"),
]


def test_a_live_zone_is_adopted_without_duplicates(stack: Run) -> None:
    run = stack(CONFIG, zone=LIVE_ZONE)
    imported = {r.name: r.import_id for r in run.dns_records() if r.import_id}
    assert imported == {
        "mta-sts-discovery-sts": "rec-sts",
        "mta-sts-host-a": "rec-a",
        "mta-sts-mail-proton-mx-mail": "rec-mx",
        "mta-sts-mail-proton-spf": "rec-spf",
        "mta-sts-mail-proton-verification": "rec-verify",
    }
    # adopted records are registered with the desired values: the engine updates them in place
    sts = run.named("mta-sts-discovery-sts")
    assert sts.inputs["content"] == f'"{STATE.discovery_record.value}"'
    # still one resource per desired record: nothing duplicated next to what was adopted
    assert len(run.dns_records()) == len(STATE.records)


def test_the_lookup_asks_only_for_the_names_the_stack_manages(stack: Run) -> None:
    run = stack(CONFIG, zone=LIVE_ZONE)
    asked = {args["name"]["exact"] for token, args in run.calls if token.endswith("getDnsRecords")}
    assert asked == {r.name for r in STATE.records}
    assert {args["zoneId"] for token, args in run.calls if token.endswith("getDnsRecords")} == {
        LOOKED_UP_ZONE_ID
    }


def test_adoption_works_the_same_in_preview(stack: Run) -> None:
    run = stack(CONFIG, zone=LIVE_ZONE, preview=True)
    assert run.named("mta-sts-discovery-sts").import_id == "rec-sts"


def test_conflicts_stop_the_program_before_anything_registers_and_list_what_to_delete(stack: Run) -> None:
    zone = [
        *LIVE_ZONE,
        zone_record("rec-sts-2", "_mta-sts.example.com", "TXT", '"v=STSv1; id=stale2"'),
        zone_record("rec-spf-2", "example.com", "TXT", '"v=spf1 include:_spf.google.com ~all"'),
    ]
    with pytest.raises(pulumi.RunError) as caught:
        stack(CONFIG, zone=zone)
    message = str(caught.value)
    assert "rec-sts-2" in message and "rec-spf-2" in message and "delete" in message
    assert "rec-sts)" not in message and "rec-site" not in message


def test_conflicting_zone_registers_nothing(failing_stack: Callable[..., FailedRun]) -> None:
    run = failing_stack(CONFIG, zone=[zone_record("c", "mta-sts.example.com", "CNAME", "site.netlify.app")])
    assert isinstance(run.error, pulumi.RunError) and "CNAME" in str(run.error)
    assert run.registered == []


def test_a_second_run_over_its_own_records_imports_nothing(stack: Run) -> None:
    ours = [
        zone_record(f"own-{r.key}", r.name, r.type, r.content, r.priority, comment=MANAGED_COMMENT)
        for r in STATE.records
    ]
    run = stack(CONFIG, zone=ours)
    assert [r.name for r in run.dns_records() if r.import_id] == []


def test_adopt_false_refuses_to_create_next_to_a_live_record(stack: Run) -> None:
    with pytest.raises(pulumi.RunError, match="'adopt' is false"):
        stack({**CONFIG, "adopt": False}, zone=LIVE_ZONE)
