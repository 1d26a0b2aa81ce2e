"""The policy file, its id and mx matching (RFC 8461 §3.1, §3.2, §4.1 of RFC 8461)."""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mtasts.config import parse_settings
from mtasts.policy import Mode, Policy, PolicyError, parse_policy, policy_id
from mtasts.rules.mx_coverage import matches as mx_pattern_matches
from tests.strategies import hostnames, stack_configs

PROTON = Policy(mode=Mode.ENFORCE, max_age=604_800, mx=("mail.protonmail.ch", "mailsec.protonmail.ch"))


def test_rendered_policy_puts_version_first_and_ends_lines_with_lf() -> None:
    assert PROTON.render() == (
        "version: STSv1\nmode: enforce\nmx: mail.protonmail.ch\nmx: mailsec.protonmail.ch\nmax_age: 604800\n"
    )


def test_policy_id_is_1_to_32_letters_and_digits() -> None:
    assert len(PROTON.id) == 32 and PROTON.id.isalnum() and PROTON.id.isascii()


def test_policy_id_changes_when_max_age_changes() -> None:
    assert dataclasses.replace(PROTON, max_age=86_400).id != PROTON.id


def test_policy_id_changes_when_mode_changes() -> None:
    assert dataclasses.replace(PROTON, mode=Mode.TESTING).id != PROTON.id


@given(stack_configs())
def test_render_then_parse_gives_back_the_same_policy(config: dict) -> None:
    policy = parse_settings(config).policy
    assert parse_policy(policy.render()) == policy


@given(stack_configs(), stack_configs())
def test_id_is_equal_exactly_when_the_policies_are_equal(first: dict, second: dict) -> None:
    one, two = parse_settings(first).policy, parse_settings(second).policy
    assert (one.id == two.id) == (one == two)


def test_parser_accepts_crlf_and_ignores_unknown_keys() -> None:
    text = "version: STSv1\r\nmode: testing\r\nmx: mx.example.com\r\nmax_age: 86400\r\nfuture: yes\r\n"
    assert parse_policy(text) == Policy(Mode.TESTING, 86_400, ("mx.example.com",))


@pytest.mark.parametrize(
    ("text", "complaint"),
    [
        ("mode: enforce\nmx: a.example.com\nmax_age: 1\n", "'version'"),
        ("version: STSv1\nmode: strict\nmx: a.example.com\nmax_age: 1\n", "'mode'"),
        ("version: STSv1\nmode: enforce\nmx: a.example.com\nmax_age: 31557601\n", "'max_age'"),
        ("version: STSv1\nmode: enforce\nmx: a.example.com\nmax_age: -5\n", "'max_age'"),
        ("version: STSv1\nmode: enforce\nmax_age: 60\n", "'mx' is required"),
        ("version: STSv1\nmode: enforce\nmx: *.*.example.com\nmax_age: 60\n", "*.*.example.com"),
        ("version: STSv1\n\nmode: enforce\nmx: a.example.com\nmax_age: 60\n", "line 2 is empty"),
        ("version: STSv1\nmode enforce\nmx: a.example.com\nmax_age: 60\n", "line 2"),
        ("version: STSv1\nmode: none\nmax_age: 60\nnote: caf\x01\n", "control characters"),
    ],
)
def test_parser_names_what_is_wrong(text: str, complaint: str) -> None:
    with pytest.raises(PolicyError) as caught:
        parse_policy(text)
    assert complaint in str(caught.value)


def test_a_repeated_field_is_read_as_senders_following_the_rfc_do_with_the_first_value() -> None:
    policy = parse_policy("version: STSv1\nmode: enforce\nmode: none\nmx: a.example.com\nmax_age: 60\n")
    assert policy.mode is Mode.ENFORCE


def test_utf8_in_an_extension_value_is_valid() -> None:
    assert parse_policy("version: STSv1\nmode: none\nmax_age: 60\nnote: café ✉\n").mode is Mode.NONE


def test_parser_refuses_policies_over_64_kib() -> None:
    text = "version: STSv1\nmode: none\nmax_age: 60\n" + "x: y\n" * 20_000
    with pytest.raises(PolicyError, match="larger than 65536"):
        parse_policy(text)


@pytest.mark.parametrize(
    ("pattern", "host", "matches"),
    [
        ("mail.example.com", "mail.example.com", True),
        ("mail.example.com", "MAIL.example.com.", True),
        ("*.example.com", "mx1.example.com", True),
        ("*.example.com", "example.com", False),  # the wildcard needs one label
        ("*.example.com", "a.b.example.com", False),  # and exactly one
        ("mail.example.com", "mail.example.net", False),
    ],
)
def test_wildcard_matches_exactly_one_leftmost_label(pattern: str, host: str, matches: bool) -> None:
    assert mx_pattern_matches(pattern, host) is matches


@given(st.lists(hostnames, min_size=1, max_size=5))
def test_a_policy_covers_every_host_it_lists(hosts: list[str]) -> None:
    policy = Policy(Mode.ENFORCE, 60, tuple(dict.fromkeys(hosts)))
    assert policy.uncovered(hosts) == []


def test_policy_id_of_text_is_stable() -> None:
    assert policy_id("version: STSv1\n") == policy_id("version: STSv1\n")
