"""Many domains in one program: each dynamic resource pickles its provider, and the SDK's pickler
patch must not pile up (components/pulumi_mta_sts/dynamic_resource.py)."""

from __future__ import annotations

import os
import pickle
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pulumi.dynamic.dynamic import serialize_provider
from pulumi_mta_sts.dynamic_resource import unwrap_sorted_pickler
from pulumi_mta_sts.served import PublishedMaxAgeProvider, ServedPolicyProvider

from tests.pulumi_mocks import run_example

DOMAINS = 3
PROGRAM = """
import pulumi
import pulumi_mta_sts as mta_sts

for n in range({domains}):
    domain = mta_sts.MtaStsDomain(
        f"shop{{n}}",
        {{
            "domain": f"shop{{n}}.example.net",
            "mode": "testing",
            "mx": [f"mail.shop{{n}}.example.net"],
            "tls_rpt": [f"mailto:tls-reports@shop{{n}}.example.net"],
            "hosting": "{hosting}",
        }},
    )
    pulumi.export(f"policyId{{n}}", domain.policy_id)
"""


def _batch_setitems() -> Any:
    return pickle._Pickler.__dict__["_batch_setitems"]  # type: ignore[attr-defined]


@pytest.fixture(autouse=True)
def pickler_as_found() -> Iterator[None]:
    """Each test leaves the standard library's pickler as it found it."""
    found = _batch_setitems()
    yield
    pickle._Pickler._batch_setitems = found  # type: ignore[attr-defined]


@pytest.mark.parametrize("hosting", ["github-pages", "netlify"])
def test_a_program_past_a_thousand_dynamic_resources_still_registers_every_domain(
    tmp_path: Path, hosting: str
) -> None:
    # As a stack of some 200 domains reaches its last ones (five dynamic resources each), or
    # another component's dynamic resources before ours: the SDK has wrapped its pickler a
    # thousand times, and pickling a dictionary through a thousand wrappers overflows the stack.
    for _ in range(1_000):
        serialize_provider(PublishedMaxAgeProvider())
    os.environ.setdefault("NETLIFY_AUTH_TOKEN", "test-netlify-token-not-a-secret")
    (tmp_path / "__main__.py").write_text(PROGRAM.format(domains=DOMAINS, hosting=hosting))

    run = run_example(tmp_path, "many-domains")

    assert len([key for key in run.exports if key.startswith("policyId")]) == DOMAINS
    assert len(run.of_type("pulumi-python:dynamic/mtasts:ServedPolicy")) == DOMAINS


def test_unwrapping_restores_the_standard_librarys_method_whatever_the_sdk_stacked() -> None:
    for _ in range(50):
        serialize_provider(PublishedMaxAgeProvider())
    assert _batch_setitems().__qualname__ != "_Pickler._batch_setitems"

    unwrap_sorted_pickler()

    assert _batch_setitems().__qualname__ == "_Pickler._batch_setitems"
    serialize_provider(ServedPolicyProvider())  # a provider whose pickle holds dictionaries


def test_a_method_the_sdk_did_not_put_there_is_left_alone() -> None:
    unwrap_sorted_pickler()
    original = _batch_setitems()

    def someone_elses(self: Any, items: Any) -> None:
        original(self, items)

    pickle._Pickler._batch_setitems = someone_elses  # type: ignore[attr-defined]
    unwrap_sorted_pickler()

    assert _batch_setitems() is someone_elses
