"""Settings validation: every bad value is named with its fix, all at once."""

from __future__ import annotations

import pytest
from hypothesis import given

from mtasts.config import ConfigError, Hosting, Mode, parse_settings
from mtasts.constants import PROTON_MX
from tests.strategies import stack_configs


def problems_of(raw: dict) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        parse_settings(raw)
    return caught.value.problems


def test_defaults_are_the_safe_ones() -> None:
    settings = parse_settings({"domain": "example.com"})
    assert settings.mode is Mode.TESTING
    assert settings.max_age == 604_800
    assert settings.mx == ("mail.protonmail.ch", "mailsec.protonmail.ch")
    assert settings.mx == PROTON_MX  # Pulumi.yaml's default names the hosts the Proton records publish
    assert settings.tls_rpt == ()
    assert settings.hosting is Hosting.NETLIFY
    assert settings.repository == "mta-sts-example-com"
    assert settings.zone_id is None


def test_domain_is_lower_cased_and_loses_its_trailing_dot() -> None:
    assert parse_settings({"domain": "Mail.Example.COM."}).domain == "mail.example.com"


def test_every_problem_is_reported_at_once_with_key_and_value() -> None:
    problems = problems_of(
        {
            "domain": "not a domain",
            "mode": "strict",
            "maxAge": 31_557_601,
            "mx": ["mail..example.com"],
            "tlsRpt": ["http://reports.example.com"],
            "hosting": "s3",
            "repository": "has space",
            "zoneId": "ZONE",
        }
    )
    assert len(problems) == 8
    for key, value in [
        ("domain", "not a domain"),
        ("mode", "strict"),
        ("maxAge", "31557601"),
        ("mx", "mail..example.com"),
        ("tlsRpt", "http://reports.example.com"),
        ("hosting", "s3"),
        ("repository", "has space"),
        ("zoneId", "ZONE"),
    ]:
        assert any(f"'{key}'" in problem and value in problem for problem in problems), (key, problems)


@pytest.mark.parametrize("max_age", [-1, 31_557_601, 1.5, "week", True])
def test_max_age_outside_the_rfc_range_is_refused(max_age: object) -> None:
    assert any(
        "'maxAge'" in problem and "0 to 31557600" in problem
        for problem in problems_of({"domain": "example.com", "maxAge": max_age})
    )


def test_max_age_written_as_a_string_by_pulumi_config_set_is_accepted() -> None:
    assert parse_settings({"domain": "example.com", "maxAge": "86400"}).max_age == 86_400


def test_empty_mx_is_refused_unless_mode_is_none() -> None:
    assert any("'mx' is empty" in problem for problem in problems_of({"domain": "example.com", "mx": []}))
    assert parse_settings({"domain": "example.com", "mx": [], "mode": "none"}).mx == ()


@pytest.mark.parametrize(
    "pattern", ["*.*.example.com", "mail.*.example.com", "*", "-mail.example.com", "mail"]
)
def test_mx_pattern_must_be_a_host_or_a_leading_wildcard(pattern: str) -> None:
    assert any(pattern in problem for problem in problems_of({"domain": "example.com", "mx": [pattern]}))


@pytest.mark.parametrize(
    "uri",
    [
        "tls@example.com",
        "mailto:",
        "mailto:no-at-sign",
        "mailto:a@b@example.com",
        "mailto:a@localhost",
        "http://example.com/r",
        "https://",
        "mailto:a@example.com,b@example.com",
    ],
)
def test_tls_rpt_uri_must_be_mailto_address_or_https(uri: str) -> None:
    assert any("'tlsRpt'" in problem for problem in problems_of({"domain": "example.com", "tlsRpt": [uri]}))


def test_tls_rpt_accepts_mailto_and_https() -> None:
    uris = ["mailto:tls-reports@example.com", "https://reports.example.net/tlsrpt"]
    assert parse_settings({"domain": "example.com", "tlsRpt": uris}).tls_rpt == tuple(uris)


@pytest.mark.parametrize(
    ("uri", "fix"),
    [
        # RFC 5322 §3.4.1: an address's domain has no final dot (a DNS name's root dot is no part of it).
        ("mailto:tls@example.com.", "mailto:tls@example.com"),
        # RFC 3986 §2: characters outside a URI's are percent-encoded; RFC 8460 §3: so are "," and "!".
        ("mailto:tls{x}@example.com", "mailto:tls%7Bx%7D@example.com"),
        ("mailto:tls!x@example.com", "mailto:tls%21x@example.com"),
        ('https://r.example.com/a"b|c', "https://r.example.com/a%22b%7Cc"),
        ("https://r.example.com/100%", "https://r.example.com/100%25"),
    ],
)
def test_a_report_uri_a_strict_reader_refuses_is_refused_with_the_uri_to_write(uri: str, fix: str) -> None:
    [problem] = problems_of({"domain": "example.com", "tlsRpt": [uri]})
    assert problem.startswith(f"'tlsRpt' entry '{uri}' is not accepted") and fix in problem, problem


def test_a_report_url_with_a_password_is_refused_without_showing_the_password() -> None:
    [problem] = problems_of(
        {"domain": "example.com", "tlsRpt": ["https://user:hunter2-pw@r.example.com/tls"]}
    )
    assert "'tlsRpt'" in problem and "public" in problem and "https://r.example.com/tls" in problem
    assert "hunter2-pw" not in problem


def test_a_report_uri_with_a_port_query_and_fragment_is_accepted() -> None:
    uri = "https://r.example.com:8443/tls%20rpt?k=v&x=1#f"
    assert parse_settings({"domain": "example.com", "tlsRpt": [uri]}).tls_rpt == (uri,)


def test_a_report_uri_listed_twice_is_refused_as_a_mx_pattern_listed_twice_is() -> None:
    # Published twice in the rua list, every report would be sent twice to the same place.
    uris = ["mailto:tls@example.com", "https://r.example.com/tls", " mailto:tls@example.com"]
    [problem] = problems_of({"domain": "example.com", "tlsRpt": uris})
    assert "'tlsRpt' entry 'mailto:tls@example.com' is listed twice" in problem


def test_unknown_key_is_named_with_the_known_ones() -> None:
    [problem] = problems_of({"domain": "example.com", "maxage": 5})
    assert "'maxage'" in problem and "maxAge" in problem


def test_missing_domain_says_how_to_set_it() -> None:
    [problem] = problems_of({})
    assert "scripts/pulumi config set domain" in problem


def test_unicode_domain_gets_its_ascii_form_as_the_fix() -> None:
    [problem] = problems_of({"domain": "bücher.example"})
    assert "xn--bcher-kva.example" in problem


def test_netlify_without_a_token_is_refused_but_pages_needs_none() -> None:
    [problem] = problems_of_token({"domain": "example.com"})
    assert "netlifyToken" in problem and "NETLIFY_AUTH_TOKEN" in problem
    parse_settings({"domain": "example.com", "hosting": "github-pages"}, netlify_token_available=False)


def test_the_configuration_error_spells_the_netlify_token_key_with_its_namespace() -> None:
    # The Netlify client's help says the same (test_netlify_api, test_netlify_provider).
    [problem] = problems_of_token({"domain": "example.com"})
    assert "pulumi config set --secret mta-sts:netlifyToken <token>" in problem


def problems_of_token(raw: dict) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        parse_settings(raw, netlify_token_available=False)
    return caught.value.problems


@given(stack_configs())
def test_every_generated_valid_config_is_accepted(config: dict) -> None:
    settings = parse_settings(config)
    assert settings.domain == config["domain"]
    assert list(settings.mx) == config["mx"]


LONG_LABEL = "a" * 60
MANY_LONG_MX = [f"m{i}.{LONG_LABEL}.{LONG_LABEL}.{LONG_LABEL}.example.com" for i in range(400)]


def test_mx_patterns_that_render_a_policy_larger_than_senders_read_are_refused_with_the_fix() -> None:
    [problem] = problems_of({"domain": "example.com", "mx": MANY_LONG_MX})
    assert "larger than 65536 bytes" in problem and "81," in problem, problem
    assert "fewer or shorter mx patterns" in problem and "*.example.com" in problem, problem
    assert "RFC 8461 §3.2" in problem


def test_the_policy_size_bound_is_the_one_the_served_file_is_held_to() -> None:
    from mtasts.rules import policy_file

    text = "version: STSv1\nmode: testing\n" + "".join(f"mx: {p}\n" for p in MANY_LONG_MX) + "max_age: 1\n"
    [size] = [f for f in policy_file.parse(text).findings if f.code == policy_file.SIZE]
    assert "fewer or shorter mx patterns" in size.fix, size


def test_report_uris_that_make_a_txt_record_larger_than_dns_carries_are_refused() -> None:
    [problem] = problems_of({"domain": "example.com", "tlsRpt": ["https://r.example.com/" + "a" * 70_000]})
    assert "65,535" in problem and "RFC 1035 §3.3" in problem and "shorter" in problem, problem
    assert "a" * 300 not in problem


def test_the_tls_rpt_record_reading_holds_the_same_txt_bound() -> None:
    from mtasts.rules import tlsrpt

    findings = tlsrpt.parse(tlsrpt.text(["https://r.example.com/" + "a" * 70_000])).findings
    assert any("65,535" in finding.seen for finding in findings), findings


def test_dmarc_report_uris_too_long_for_one_txt_record_are_refused() -> None:
    from tests.proton_values import DKIM, VERIFICATION

    proton = {
        "verification": VERIFICATION,
        "dkim": DKIM,
        "dmarcRua": ["mailto:" + "d" * 60 + f"@r{i}.example.com" for i in range(1_000)],
    }
    problems = problems_of({"domain": "example.com", "proton": proton})
    assert any(p.startswith("'proton.dmarcRua': the _dmarc TXT record would hold") for p in problems), (
        problems
    )


@pytest.mark.parametrize(
    ("uri", "said"),
    [
        ("https://r.example.com:99999/x", "names port 99999, which is no TCP port"),
        ("https://r.example.com:0/x", "names port 0, which is no TCP port"),
        ("mailto:" + "a" * 1_000 + "@example.com", "local part (before the '@') of 1,000 octets"),
        ("mailto:" + "%61" * 65 + "@example.com", "local part (before the '@') of 65 octets"),
    ],
)
def test_report_uris_outside_what_tcp_and_smtp_carry_are_refused_by_config_and_record_reading_alike(
    uri: str, said: str
) -> None:
    from mtasts.rules import tlsrpt

    [problem] = problems_of({"domain": "example.com", "tlsRpt": [uri]})
    assert said in problem, problem
    assert any(said in finding.seen for finding in tlsrpt.parse(tlsrpt.text([uri])).findings)


def test_report_uris_at_the_limits_are_accepted() -> None:
    uris = [
        "https://r.example.com:65535/x",
        "https://r.example.com:1/x",
        "mailto:" + "a" * 64 + "@example.com",
    ]
    assert parse_settings({"domain": "example.com", "tlsRpt": uris}).tls_rpt == tuple(uris)


@pytest.mark.parametrize(
    ("first", "again"),
    [
        ("mailto:tls@example.org", "mailto:tls@EXAMPLE.ORG"),
        ("https://r.example.org/x", "https://R.example.org:443/x"),
        ("https://r.example.org", "https://r.example.org/"),
        ("mailto:a%2cb@example.org", "mailto:a%2Cb@example.org"),
    ],
)
def test_two_spellings_of_one_report_address_are_listed_twice_in_tls_rpt_and_dmarc_rua(
    first: str, again: str
) -> None:
    from mtasts.rules import tlsrpt
    from tests.proton_values import DKIM, VERIFICATION

    [problem] = problems_of({"domain": "example.org", "tlsRpt": [first, again]})
    assert "is listed twice" in problem and "is the address of" in problem, problem
    findings = tlsrpt.parse(tlsrpt.text([first, again])).findings
    assert [f.code for f in findings] == [tlsrpt.URI_DUPLICATE], findings
    if first.startswith("mailto:"):
        proton = {"verification": VERIFICATION, "dkim": DKIM, "dmarcRua": [first, again]}
        [problem] = problems_of({"domain": "example.org", "proton": proton})
        assert problem.startswith("'proton.dmarcRua' entry") and "is listed twice" in problem, problem


def test_a_local_part_differing_in_case_is_another_address() -> None:
    uris = [
        "mailto:TLS@example.org",
        "mailto:tls@example.org",
    ]  # RFC 5321 §2.4: the local part is the server's
    assert parse_settings({"domain": "example.org", "tlsRpt": uris}).tls_rpt == tuple(uris)


@pytest.mark.parametrize(
    ("label", "proper"),
    [
        ("xn--tda680n", None),  # ü and a right-to-left override (Cf)
        ("xn--ab-5da", None),  # a soft hyphen, which UTS #46 deletes: plain "ab"
        ("xn--tda1031keaio5d", "xn--bcher-kva"),  # fullwidth letters
        ("xn--BCHER-2pa", "xn--bcher-kva"),  # an upper-case Ü
        ("xn--ecole-6ed", "xn--cole-9oa"),  # e and a combining acute: not NFC
    ],
)
def test_an_a_label_idna_would_never_produce_is_refused_with_the_one_it_would(
    label: str, proper: str | None
) -> None:
    [problem] = problems_of({"domain": f"{label}.example"})
    assert f"has the label '{label.lower()}', which is no A-label" in problem, problem
    assert (f"write the label as '{proper}'" in problem) if proper else ("A-label your registrar" in problem)


@pytest.mark.parametrize("domain", ["xn--e28h.example", "xn--bcher-kva.example", "XN--BCHER-KVA.example"])
def test_a_labels_idna_produces_and_emoji_stay_accepted(domain: str) -> None:
    assert parse_settings({"domain": domain}).domain == domain.lower()
