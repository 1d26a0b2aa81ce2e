"""DNS records and repository files of the desired state, and independent parsers' verdicts.

checkdmarc and postfix-mta-sts-resolver were written by other people: their acceptance
of what we render is evidence that senders will parse it too.
"""

from __future__ import annotations

from checkdmarc.mta_sts import parse_mta_sts_policy, parse_mta_sts_record
from checkdmarc.smtp_tls_reporting import parse_smtp_tls_reporting_record
from hypothesis import given
from hypothesis import strategies as st
from postfix_mta_sts_resolver import utils as resolver_utils

from mtasts.config import parse_settings
from mtasts.desired import GITHUB_PAGES_IPV4, desired_state
from mtasts.records import DnsRecord, quote_txt
from mtasts.rules import discovery as discovery_rule
from mtasts.rules import tlsrpt
from tests.strategies import stack_configs


def unquote(content: str) -> str:
    """Zone-file TXT data back to its text (what a resolver hands a validator)."""
    import shlex

    return "".join(shlex.split(content))


@given(stack_configs())
def test_every_valid_config_yields_records_that_parse(config: dict) -> None:
    state = desired_state(parse_settings(config))
    discovery = unquote(state.discovery_record.content)
    assert discovery_rule.parse(discovery).id == state.policy_id
    tls = [record for record in state.records if record.key == "tls-rpt"]
    assert [tlsrpt.parse(unquote(record.content)).uris for record in tls] == (
        [tuple(config["tlsRpt"])] if "tlsRpt" in config else []
    )


@given(stack_configs())
def test_checkdmarc_accepts_the_policy_and_records_we_publish(config: dict) -> None:
    state = desired_state(parse_settings(config))
    parsed = parse_mta_sts_policy(state.policy_text)["policy"]
    assert parsed["mode"] == state.policy.mode.value
    assert parsed["max_age"] == state.policy.max_age
    assert parsed.get("mx", []) == list(state.policy.mx)
    assert parse_mta_sts_record(unquote(state.discovery_record.content))["tags"]["id"] == state.policy_id
    for record in state.records:
        if record.key == "tls-rpt":
            tags = parse_smtp_tls_reporting_record(unquote(record.content))["tags"]
            assert tags["rua"]["value"] == config["tlsRpt"]


@given(stack_configs())
def test_postfix_mta_sts_resolver_reads_the_policy_we_publish(config: dict) -> None:
    state = desired_state(parse_settings(config))
    parsed = resolver_utils.parse_mta_sts_policy(state.policy_text)
    assert parsed["version"] == "STSv1"
    assert parsed["mode"] == state.policy.mode.value
    assert int(parsed["max_age"]) == state.policy.max_age
    assert parsed["mx"] == list(state.policy.mx)
    record = resolver_utils.parse_mta_sts_record(unquote(state.discovery_record.content))
    assert record == {"v": "STSv1", "id": state.policy_id}


def test_netlify_hosting_publishes_one_a_record_null_mx_and_spf_on_the_policy_host() -> None:
    state = desired_state(parse_settings({"domain": "example.com", "tlsRpt": ["mailto:t@example.com"]}))
    assert [(r.name, r.type, r.rdata) for r in state.records] == [
        ("mta-sts.example.com", "A", "75.2.60.5"),
        ("mta-sts.example.com", "MX", "0 ."),
        ("mta-sts.example.com", "TXT", '"v=spf1 -all"'),
        ("_mta-sts.example.com", "TXT", f'"v=STSv1; id={state.policy_id}"'),
        ("_smtp._tls.example.com", "TXT", '"v=TLSRPTv1; rua=mailto:t@example.com"'),
    ]


def test_github_pages_hosting_publishes_the_four_pages_addresses() -> None:
    state = desired_state(parse_settings({"domain": "example.com", "hosting": "github-pages"}))
    assert [r.value for r in state.records if r.type == "A"] == list(GITHUB_PAGES_IPV4)
    assert not any(r.name.startswith("_smtp._tls") for r in state.records)


def test_pages_repository_has_nojekyll_and_netlify_repository_has_headers() -> None:
    pages = desired_state(parse_settings({"domain": "example.com", "hosting": "github-pages"}))
    netlify = desired_state(parse_settings({"domain": "example.com"}))
    assert ".nojekyll" in pages.files and "_headers" not in pages.files
    assert "_headers" in netlify.files and ".nojekyll" not in netlify.files
    assert "Content-Type: text/plain" in netlify.files["_headers"]
    assert pages.files[".well-known/mta-sts.txt"] == netlify.files[".well-known/mta-sts.txt"]


def test_long_txt_is_split_into_255_octet_strings() -> None:
    text = "v=TLSRPTv1; rua=" + ",".join(f"mailto:reports-{i:03}@example.com" for i in range(12))
    content = DnsRecord(key="tls-rpt", name="x", type="TXT", value=text, ttl=1).content
    strings = content.split('" "')
    assert len(strings) == 2 and all(len(s.strip('"')) <= 255 for s in strings)
    assert unquote(content) == text


def test_quote_txt_escapes_quotes_and_backslashes() -> None:
    assert quote_txt('a"b\\c') == '"a\\"b\\\\c"'


@given(
    st.sampled_from(["mailto:", "https:", "MAILTO:", "ftp:", ""]),
    st.text(alphabet=st.characters(codec="utf-8") | st.sampled_from(list("%,!;#/&=[]?@:")), max_size=40),
)
def test_a_report_uri_with_nothing_to_encode_is_told_as_the_per_character_look_tells_it(
    scheme: str, rest: str
) -> None:
    # The whole-address pattern is a fast path; it must encode (and name) what looking at each
    # character does, for any text.
    uri = scheme + rest
    assert tlsrpt._percent_encoded(uri) == tlsrpt._percent_encoded(uri, per_character=True)
