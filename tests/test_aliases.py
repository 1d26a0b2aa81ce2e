"""Renames never replace live records: a renamed record key or type token carries an alias
that resolves to the URN the resource had before, so the engine updates it in place."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from mtasts import desired
from tests.pulumi_mocks import Registered, StackRun

Run = Callable[..., StackRun]
CONFIG = {"domain": "example.com", "tlsRpt": ["mailto:tls@example.com"], "dnssec": True}


def aliased_urn(resource: Registered, alias: dict[str, str]) -> str:
    """The URN an alias spec names: the resource's own URN with the spec's name or type."""
    head, _, name = resource.urn.rpartition("::")
    if "name" in alias:
        name = alias["name"]
    if "type" in alias:
        head = head.removesuffix(resource.type) + alias["type"]
    return f"{head}::{name}"


def test_a_renamed_record_key_keeps_its_resource(stack: Run, monkeypatch: pytest.MonkeyPatch) -> None:
    before = stack(CONFIG).named("mta-sts-host-spf")
    monkeypatch.setattr(desired, "RENAMED_KEYS", {"spf": "spf-none"})
    after = stack(CONFIG).named("mta-sts-host-spf-none")
    assert after.type == before.type and after.parent == before.parent
    assert after.inputs == before.inputs
    renames = [alias for alias in after.aliases if "name" in alias]
    assert [aliased_urn(after, alias) for alias in renames] == [before.urn]


def test_records_that_were_not_renamed_carry_no_name_alias(stack: Run) -> None:
    # (pulumi_cloudflare itself aliases every DnsRecord to its former type `cloudflare:index/record:Record`.)
    assert not [r.name for r in stack(CONFIG).dns_records() if any("name" in a for a in r.aliases)]


def test_the_dnssec_component_keeps_its_resource_under_its_corrected_type_token(stack: Run) -> None:
    [signing] = stack(CONFIG).of_type("mta-sts:dnssec:ZoneSigning")
    former = signing.urn.replace("mta-sts:dnssec:ZoneSigning", "mta-sts:dns:ZoneSigning")
    # The engine derives the children's former URNs from their parent's alias (Pulumi docs, "aliases").
    assert [aliased_urn(signing, alias) for alias in signing.aliases] == [former]
