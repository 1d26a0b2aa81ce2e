"""`mtasts.visible`: text from outside (reports, DNS, servers) shown with every character visible
and its length bounded."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from mtasts.visible import clip, listing, quoted, visible


def test_control_characters_escapes_and_bidi_overrides_are_written_as_escapes() -> None:
    assert visible("a\x1b[31mb\r\nc") == "a\\x1b[31mb\\r\\nc"
    assert visible("moc.elpmaxe\u202e") == "moc.elpmaxe\\u202e"
    assert visible("\u2066x\u2069\u200f\x00") == "\\u2066x\\u2069\\u200f\\x00"


def test_printable_text_in_any_script_is_shown_as_it_is() -> None:
    assert visible("Müller GmbH, 日本, example.com") == "Müller GmbH, 日本, example.com"


def test_a_backslash_is_doubled_so_no_escape_in_the_text_passes_for_one_written_here() -> None:
    assert visible("a\\x1b") == "a\\\\x1b"
    assert visible("a\x1b") != visible("a\\x1b")


def test_long_text_is_cut_with_a_marker_saying_how_much() -> None:
    assert clip("abcdef", 3) == "abc…(+3 characters)"
    assert visible("x" * 10_000, 10) == "x" * 10 + "…(+9,990 characters)"


@given(st.text(max_size=300), st.integers(min_value=1, max_value=100))
def test_what_is_shown_is_printable_bounded_and_on_one_line(text: str, limit: int) -> None:
    shown = visible(text, limit)
    assert shown.isprintable() and "\n" not in shown and "\r" not in shown
    assert len(shown) <= 10 * limit + 40  # an escape is at most 10 characters (\U0010ffff)


@given(st.text(max_size=50), st.text(max_size=50))
def test_different_texts_are_shown_differently(first: str, second: str) -> None:
    if first != second:
        assert visible(first, 1000) != visible(second, 1000)


def test_quoted_text_is_escaped_as_visible_escapes_it_between_quotes_that_cannot_be_forged() -> None:
    assert quoted("v=STSv1; id=1") == "'v=STSv1; id=1'"
    assert quoted("a\x1b[2J\r\nb\u202e") == "'a\\x1b[2J\\r\\nb\\u202e'"
    assert quoted("x', 'y") == "\"x', 'y\""  # one text, not two
    assert quoted("x" * 100_000) == "'" + "x" * 200 + "'…(+99,800 characters)"


@given(st.text(max_size=300).filter(lambda text: "'" not in text and '"' not in text))
def test_quoted_is_visible_between_quotes(text: str) -> None:
    assert quoted(text, 1000) == f"'{visible(text, 1000)}'"


def test_a_listing_shows_the_first_three_each_visible_and_counts_the_rest() -> None:
    assert listing(["a", "b"]) == "a, b"
    assert listing([f"v=STSv1; id={n}" for n in range(5000)], show=quoted) == (
        "'v=STSv1; id=0', 'v=STSv1; id=1', 'v=STSv1; id=2' and 4,997 more"
    )
    shown = listing(["\x1b[2J" + "x" * 10_000, "b"])
    assert shown.startswith("\\x1b[2J") and shown.endswith("characters), b") and len(shown) < 300
