"""DNSSEC on the zone under mocks: enabled, DS exported with its fields, no perpetual diff."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from mtasts.config import ConfigError, parse_settings
from tests.pulumi_mocks import DNSSEC_OUTPUTS, LOOKED_UP_ZONE_ID, StackRun

Run = Callable[..., StackRun]
DNSSEC = "cloudflare:index/zoneDnssec:ZoneDnssec"
CONFIG = {"domain": "example.com", "tlsRpt": ["mailto:tls@example.com"]}


def test_dnssec_is_off_by_default(stack: Run) -> None:
    run = stack(CONFIG)
    assert run.of_type(DNSSEC) == []
    assert "dnssecDs" not in run.exports


def test_dnssec_turns_signing_on_for_the_zone(stack: Run) -> None:
    run = stack({**CONFIG, "dnssec": True})
    (signing,) = run.of_type(DNSSEC)
    assert signing.name == "mta-sts-dnssec-zone"
    assert signing.inputs["zoneId"] == LOOKED_UP_ZONE_ID
    assert signing.inputs["status"] == "active"


def test_pending_status_is_ignored_so_previews_show_no_change(stack: Run) -> None:
    # Cloudflare answers `pending` until the DS is at the parent (the mock does too): a
    # status the program sets would otherwise differ from it on every preview.
    run = stack({**CONFIG, "dnssec": True})
    signing = run.named("mta-sts-dnssec-zone")
    assert DNSSEC_OUTPUTS["status"] != signing.inputs["status"]
    assert signing.ignore_changes == ["status"]


def test_destroy_leaves_signing_on_so_a_published_ds_never_breaks_the_domain(stack: Run) -> None:
    run = stack({**CONFIG, "dnssec": True})
    assert run.named("mta-sts-dnssec-zone").retain_on_delete


def test_ds_record_is_exported_with_its_fields_and_the_user_is_told_to_enter_it(stack: Run) -> None:
    run = stack({**CONFIG, "dnssec": True})
    ds = run.exports["dnssecDs"]
    assert ds["ds"].startswith(f"{LOOKED_UP_ZONE_ID}. 3600 IN DS 2371 13 2 ")
    assert (ds["keyTag"], ds["algorithm"], ds["digestType"], ds["flags"]) == (2371, "13", "2", 257)
    assert ds["digest"] == DNSSEC_OUTPUTS["digest"]
    assert any("registrar" in warning and ds["ds"] in warning for warning in run.warnings)


def test_preview_registers_signing_without_claiming_a_ds_yet(stack: Run) -> None:
    run = stack({**CONFIG, "dnssec": True}, preview=True)
    assert run.named("mta-sts-dnssec-zone").inputs["status"] == "active"


@pytest.mark.parametrize("value", ["yes", 1, "on"])
def test_dnssec_must_be_a_boolean(value: object) -> None:
    with pytest.raises(ConfigError, match="'dnssec'"):
        parse_settings({**CONFIG, "dnssec": value})


def test_dnssec_from_a_stack_file_string_is_a_boolean() -> None:
    assert parse_settings({**CONFIG, "dnssec": "true"}).dnssec is True
    assert parse_settings({**CONFIG, "dnssec": "false"}).dnssec is False
