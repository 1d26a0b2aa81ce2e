"""Faults a real deployment can have, each a transformation of a twin `Site`'s inputs.

Every fault changes what the twin serves (records, files, certificate, redirect, MX) and
leaves `site.state`, the stack's declaration, alone, except `new_id_with_old_file`, whose
point is that the declaration moved on while the host still serves the old file.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from mtasts.config import Hosting
from mtasts.desired import desired_state
from mtasts.policy import MAX_AGE_LIMIT, POLICY_PATH
from mtasts.records import DnsRecord, discovery_text

from .site import Certificate, Record, Site

Fault = Callable[[Site], Site]


# Records are picked by what they are (name and type), not by the core's resource keys.
def _discovery(site: Site, record: Record) -> bool:
    return record.name == f"_mta-sts.{site.domain}" and record.type == "TXT"


def _null_mx(site: Site, record: Record) -> bool:
    return record.name == site.policy_host and record.type == "MX"


def _spf(site: Site, record: Record) -> bool:
    return record.name == site.policy_host and record.type == "TXT" and record.value.startswith("v=spf1")


def _tls_rpt(site: Site, record: Record) -> bool:
    return record.name == f"_smtp._tls.{site.domain}" and record.type == "TXT"


def _without(site: Site, which: Callable[[Site, Record], bool]) -> Site:
    kept = tuple(record for record in site.records if not which(site, record))
    assert len(kept) < len(site.records), f"{site.domain} has no {which.__name__} record to remove"
    return replace(site, records=kept)


def _with_value(site: Site, which: Callable[[Site, Record], bool], value: str) -> Site:
    assert any(which(site, record) for record in site.records), (
        f"{site.domain} has no {which.__name__} record"
    )
    records = tuple(
        replace(record, value=value) if which(site, record) else record for record in site.records
    )
    return replace(site, records=records)


def _policy(site: Site, edit: Callable[[str], str]) -> Site:
    files = dict(site.files)
    files[POLICY_PATH] = edit(files[POLICY_PATH])
    return replace(site, files=files)


def no_discovery_record(site: Site) -> Site:
    return _without(site, _discovery)


def two_discovery_records(site: Site) -> Site:
    """A stale second `v=STSv1` record left behind: RFC 8461 §3.1 says the domain has no policy."""
    stale = DnsRecord(
        key="stale-sts",
        name=site.state.discovery_record.name,
        type="TXT",
        value=discovery_text("20190429T010101"),
        ttl=site.state.discovery_record.ttl,
    )
    return replace(site, records=(*site.records, stale))


def invalid_id(site: Site) -> Site:
    return _with_value(site, _discovery, "v=STSv1; id=2024-01-01_v2")


def policy_not_found(site: Site) -> Site:
    files = {path: text for path, text in site.files.items() if path != POLICY_PATH}
    return replace(site, files=files)


def pages_without_nojekyll(site: Site) -> Site:
    """A GitHub Pages repository without `.nojekyll`: Jekyll drops `.well-known/`."""
    assert site.hosting is Hosting.GITHUB_PAGES, "only GitHub Pages runs Jekyll"
    return replace(site, files={path: text for path, text in site.files.items() if path != ".nojekyll"})


def policy_redirected(site: Site) -> Site:
    return replace(site, redirect_to=f"https://www.{site.domain}/{POLICY_PATH}")


def policy_served_as_html(site: Site) -> Site:
    """On Netlify, a `_headers` file that names the wrong type (on Pages, a missing .txt suffix would)."""
    files = dict(site.files)
    files["_headers"] = files["_headers"].replace("text/plain", "text/html")
    return replace(site, files=files)


def certificate_for_another_host(site: Site) -> Site:
    return replace(site, certificate=Certificate.OTHER_HOST)


def expired_certificate(site: Site) -> Site:
    return replace(site, certificate=Certificate.EXPIRED)


def policy_syntax_error(site: Site) -> Site:
    return _policy(site, lambda text: text.replace("mode: ", "mode: enforcing-", 1))


def max_age_out_of_range(site: Site) -> Site:
    old = f"max_age: {site.state.policy.max_age}"
    return _policy(site, lambda text: text.replace(old, f"max_age: {MAX_AGE_LIMIT + 1}"))


def uncovered_mx_host(site: Site) -> Site:
    """The mail provider added an MX host the policy does not list (RFC 8461 §8: change the policy first)."""
    return replace(site, mx=(*site.mx, (30, "mx3.mail-elsewhere.net")))


def no_null_mx(site: Site) -> Site:
    return _without(site, _null_mx)


def no_spf(site: Site) -> Site:
    return _without(site, _spf)


def new_id_with_old_file(site: Site) -> Site:
    """The id was published before the file (RFC 8461 §8): DNS says new, the host serves old."""
    settings = site.state.settings
    newer = desired_state(replace(settings, max_age=settings.max_age + 86_400))
    assert newer.policy_id != site.state.policy_id
    return replace(site, state=newer, records=newer.records)


def tls_rpt_bad_scheme(site: Site) -> Site:
    return _with_value(site, _tls_rpt, "v=TLSRPTv1; rua=http://reports.example.net/tlsrpt")


FAULTS: dict[str, Fault] = {
    "no-discovery-record": no_discovery_record,
    "two-discovery-records": two_discovery_records,
    "invalid-id": invalid_id,
    "policy-404": policy_not_found,
    "pages-without-nojekyll": pages_without_nojekyll,
    "policy-redirect": policy_redirected,
    "policy-text-html": policy_served_as_html,
    "certificate-other-host": certificate_for_another_host,
    "certificate-expired": expired_certificate,
    "policy-syntax-error": policy_syntax_error,
    "max-age-out-of-range": max_age_out_of_range,
    "uncovered-mx-under-enforce": uncovered_mx_host,
    "no-null-mx": no_null_mx,
    "no-spf": no_spf,
    "new-id-old-file": new_id_with_old_file,
    "tls-rpt-bad-scheme": tls_rpt_bad_scheme,
}
