"""`verify` fetches the policy from every A and AAAA address of the policy host (RFC 8461 §3.3).

A sender connects to whichever address it picks, so one address serving a 404 or an older
file fails some senders. Here one HTTPS server per address (127.0.0.1, 127.0.0.2 and ::1,
all on one port) stands for the several addresses of one host.
"""

from __future__ import annotations

import asyncio
import dataclasses
import errno
import socket
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from mtasts.policy import policy_id
from mtasts.verify import (
    Outcome,
    Status,
    VerifyOptions,
    check_policy_file,
    https,
    verify_domain,
    verify_domains,
)
from mtasts.verify.https import FetchResult, _error_kind, cache_lifetime, fetch_policy
from tests.test_verify_fakes import GOOD_POLICY, FakeHttps, Reply, World, good_zone, silent_listeners

DOMAIN = "example.com"
HOST = "mta-sts.example.com"
OLD_POLICY = GOOD_POLICY.replace("86400", "604800")


def _ipv6_loopback() -> bool:
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as probe:
            probe.bind(("::1", 0))
        return True
    except OSError:
        return False


IPV6 = ["::1"] if _ipv6_loopback() else []


class Addresses:
    """A fake DNS and one HTTPS server per address of the policy host, sharing one port."""

    def __init__(self, tmp_path: Path, addresses: list[str]) -> None:
        self.world = World(tmp_path, good_zone(DOMAIN), {HOST: Reply(body=GOOD_POLICY.encode())}, [HOST])
        self.servers = {"127.0.0.1": self.world.https}
        for address in addresses[1:]:
            self.servers[address] = FakeHttps(
                self.world.ca,
                [HOST],
                {HOST: Reply(body=GOOD_POLICY.encode())},
                address=address,
                port=self.world.https.port,
            )
        self.world.dns.zone[(HOST, "A")] = [a for a in addresses if ":" not in a]
        self.world.dns.zone[(HOST, "AAAA")] = [a for a in addresses if ":" in a]

    def serve(self, address: str, reply: Reply) -> None:
        self.servers[address].replies[HOST] = reply

    def close(self) -> None:
        for server in self.servers.values():
            if server is not self.world.https:
                server.close()
        self.world.close()


@pytest.fixture
def host(tmp_path: Path) -> Iterator[Addresses]:
    addresses = Addresses(tmp_path, ["127.0.0.1", "127.0.0.2", *IPV6])
    yield addresses
    addresses.close()


def fetch_failures(host: Addresses) -> list[str]:
    report = asyncio.run(verify_domain(DOMAIN, host.world.options))
    return [f.message for f in report.by_check("policy-fetch") if f.status is Status.FAIL]


def test_every_address_is_asked_for_the_policy_with_the_host_name(host: Addresses) -> None:
    report = asyncio.run(verify_domain(DOMAIN, host.world.options))
    assert not report.failed, report.findings
    for address, server in host.servers.items():
        assert server.requests == [(HOST, "/.well-known/mta-sts.txt")], address
    [passed] = report.by_check("policy-fetch")
    assert "from every address (127.0.0.1, 127.0.0.2" in passed.message


def test_a_second_ipv4_address_serving_a_404_fails_naming_that_address(host: Addresses) -> None:
    host.serve("127.0.0.2", Reply(404, b"not found\n"))
    [failure] = fetch_failures(host)
    assert "from 127.0.0.2" in failure and "HTTP 404" in failure
    assert "127.0.0.1" not in failure


def test_an_address_serving_another_policy_fails_naming_both_ids(host: Addresses) -> None:
    host.serve("127.0.0.2", Reply(body=OLD_POLICY.encode()))
    [failure] = fetch_failures(host)
    assert "serve different policies" in failure
    assert "127.0.0.2 serve(s) a policy with id" in failure and "127.0.0.1" in failure


@pytest.mark.skipif(not IPV6, reason="this machine has no IPv6 loopback")
def test_an_ipv6_address_serving_a_404_fails_although_ipv4_serves_the_policy(host: Addresses) -> None:
    host.serve("::1", Reply(404, b""))
    [failure] = fetch_failures(host)
    assert "from ::1" in failure and "HTTP 404" in failure


def test_an_address_that_refuses_connections_fails_naming_it(tmp_path: Path) -> None:
    host = Addresses(tmp_path, ["127.0.0.1"])
    try:
        host.world.dns.zone[(HOST, "A")] = ["127.0.0.1", "127.0.0.3"]  # nothing listens on .3
        [failure] = fetch_failures(host)
        assert "127.0.0.3" in failure and "could not connect" in failure
    finally:
        host.close()


def test_the_readiness_check_sees_each_address_and_what_it_serves(host: Addresses) -> None:
    host.serve("127.0.0.2", Reply(body=OLD_POLICY.encode(), headers={"Content-Type": "text/plain",
                                                                       "Cache-Control": "max-age=600",
                                                                       "Age": "100"}))  # fmt: skip
    check = asyncio.run(check_policy_file(DOMAIN, host.world.options, GOOD_POLICY))
    assert not check.served_everywhere
    seen = {a.address: a for a in check.addresses}
    assert seen["127.0.0.1"].expected and not seen["127.0.0.2"].expected
    assert seen["127.0.0.2"].served == f"policy id {policy_id(OLD_POLICY)}"
    ids = (seen["127.0.0.1"].policy_id, seen["127.0.0.2"].policy_id)
    assert ids == (policy_id(GOOD_POLICY), policy_id(OLD_POLICY))
    assert (seen["127.0.0.2"].cache_max_age, seen["127.0.0.2"].cache_seconds_left) == (600, 500)
    drift = [f for f in check.findings if f.check == "stack-drift"]
    assert drift[0].status is Status.FAIL and "127.0.0.2: policy id" in drift[0].message


def test_an_address_family_this_machine_cannot_reach_is_not_checked_rather_than_failed() -> None:
    unreachable = OSError(errno.ENETUNREACH, "Network is unreachable")
    error = httpx.ConnectError("connect failed")
    error.__cause__ = unreachable
    assert _error_kind(error)[0] == "unreachable"
    refused = httpx.ConnectError("connect failed")
    refused.__cause__ = ConnectionRefusedError(errno.ECONNREFUSED, "Connection refused")
    assert _error_kind(refused)[0] == "connect"


def test_a_domain_whose_only_address_is_unreachable_from_here_could_not_be_checked(
    host: Addresses, monkeypatch: pytest.MonkeyPatch
) -> None:
    from mtasts.verify import policy_served

    async def no_route(
        client: object, name: str, addresses: list[str], options: object, **_: object
    ) -> list[FetchResult]:
        return [
            FetchResult("u", a, error="this machine has no route to it", error_kind="unreachable")
            for a in addresses
        ]

    monkeypatch.setattr(policy_served, "fetch_policy", no_route)
    report = asyncio.run(verify_domain(DOMAIN, host.world.options))
    assert report.outcome is Outcome.UNCHECKED
    assert all(f.status is Status.UNCHECKED for f in report.by_check("policy-fetch"))


@pytest.mark.parametrize(
    ("cache_control", "age", "expected"),
    [
        ("public, max-age=600", "30", (600, 30)),
        ("max-age=0, must-revalidate", None, (0, 0)),
        ('s-maxage=120, max-age="60"', None, (120, 0)),
        ("no-store", "5", (0, 5)),
        (None, None, (None, 0)),
        ("max-age=ten", "soon", (None, 0)),
    ],
)
def test_cache_lifetime_reads_max_age_and_age(
    cache_control: str | None, age: str | None, expected: tuple[int | None, int]
) -> None:
    assert cache_lifetime(cache_control, age) == expected


def test_fetches_over_the_limit_wait_for_a_place_and_their_timeout_starts_only_then(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Session.fetch_limit bounds the connections open at once; a fetch that waited for a
    # place must still get its whole timeout.
    in_flight, most = 0, 0

    async def slow_fetch(client: object, host: str, address: str, options: VerifyOptions) -> FetchResult:
        nonlocal in_flight, most
        in_flight += 1
        most = max(most, in_flight)
        async with asyncio.timeout(options.timeout):
            await asyncio.sleep(0.1)
        in_flight -= 1
        return FetchResult("u", address, status=200, body=GOOD_POLICY.encode())

    monkeypatch.setattr(https, "_fetch_once", slow_fetch)
    addresses = [f"192.0.2.{n}" for n in range(1, 9)]
    options = VerifyOptions(timeout=0.5)

    async def fetch(limit: asyncio.Semaphore | None) -> list[FetchResult]:
        return await fetch_policy(https.Client(options), HOST, addresses, options, limit=limit)

    results = asyncio.run(fetch(asyncio.Semaphore(1)))
    assert [result.status for result in results] == [200] * len(addresses), results
    assert most == 1
    most = 0
    asyncio.run(fetch(None))
    assert most == len(addresses)


def test_a_policy_host_with_many_silent_addresses_does_not_leave_another_domain_unchecked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The fetches in flight are bounded across domains (Session.fetch_limit, --concurrency).
    # A policy host whose addresses accept and never answer the TLS handshake holds each
    # place for the whole timeout; one such host must not take them all and push the next
    # domain past its time budget.
    monkeypatch.setattr(https, "MAX_FETCHES_PER_HOST", 2)
    world = World(tmp_path, good_zone(DOMAIN), {HOST: Reply(body=GOOD_POLICY.encode())}, [HOST])
    pits = [f"127.0.2.{n}" for n in range(1, 31)]
    world.dns.zone.update(good_zone("tarpit.test"))
    world.dns.zone[("mta-sts.tarpit.test", "A")] = pits
    options = dataclasses.replace(world.options, timeout=0.5, concurrency=4, smtp="off")
    try:
        with silent_listeners(pits, world.https.port):
            reports = asyncio.run(verify_domains(["tarpit.test", DOMAIN], options))
    finally:
        world.close()
    assert reports[1].outcome is Outcome.PASSED, [
        f.message for f in reports[1].findings if f.status is not Status.PASS
    ]
