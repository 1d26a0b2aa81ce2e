"""Hypothesis strategies for valid stack configurations (keys as in Pulumi.<stack>.yaml)."""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from mtasts.policy import MAX_AGE_LIMIT

_label = st.from_regex(r"[a-z0-9]([a-z0-9-]{0,14}[a-z0-9])?", fullmatch=True)
_tld = st.from_regex(r"[a-z]{2,8}", fullmatch=True)
hostnames = st.builds(
    lambda labels, tld: ".".join([*labels, tld]), st.lists(_label, min_size=1, max_size=3), _tld
)
mx_patterns = st.one_of(hostnames, hostnames.map(lambda host: "*." + host))
mailto = st.builds(
    lambda local, host: f"mailto:{local}@{host}",
    st.from_regex(r"[a-z0-9][a-z0-9.+_-]{0,10}", fullmatch=True),
    hostnames,
).filter(lambda uri: ".." not in uri and not uri.split("@")[0].endswith("."))
https = st.builds(
    lambda host, path: f"https://{host}/{path}", hostnames, st.from_regex(r"[a-z0-9/]{0,12}", fullmatch=True)
)


@st.composite
def stack_configs(draw: st.DrawFn) -> dict[str, Any]:
    mode = draw(st.sampled_from(["testing", "enforce", "none"]))
    config: dict[str, Any] = {
        "domain": draw(hostnames),
        "mode": mode,
        "maxAge": draw(st.integers(min_value=0, max_value=MAX_AGE_LIMIT)),
        "mx": draw(st.lists(mx_patterns, min_size=0 if mode == "none" else 1, max_size=4, unique=True)),
        "hosting": draw(st.sampled_from(["netlify", "github-pages"])),
    }
    reports = draw(st.lists(st.one_of(mailto, https), max_size=3, unique=True))
    if reports:
        config["tlsRpt"] = reports
    return config
