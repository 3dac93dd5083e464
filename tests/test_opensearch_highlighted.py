"""The cluster highlighter's tagged strings read back as segments: the text as written, marks as data."""
from __future__ import annotations

import html

import pytest
from hypothesis import given
from hypothesis import strategies as st

from search.model import Segment, plain_text
from search.opensearch.highlighted import POST_TAG, PRE_TAG, segments


def encoded(text: str) -> str:
    """What OpenSearch's html encoder does to the text around the tags."""
    return html.escape(text, quote=True).replace("/", "&#x2F;")


def test_marks_and_text_come_apart():
    got = segments("Le sommet de l&#x27;<mark>Alliance</mark> et les <mark>munitions</mark>.")
    assert got == [Segment("Le sommet de l'"), Segment("Alliance", True), Segment(" et les "), Segment("munitions", True),
                   Segment(".")]


def test_markup_in_the_dispatch_stays_text():
    # A dispatch holding "<mark>" or "<script>" arrives escaped: it is never read as a tag.
    got = segments("&lt;mark&gt;faux&lt;&#x2F;mark&gt; &lt;script&gt;alert(1)&lt;&#x2F;script&gt; <mark>pirates</mark> &amp;amp;")
    assert got == [Segment("<mark>faux</mark> <script>alert(1)</script> "), Segment("pirates", True), Segment(" &amp;")]


@pytest.mark.parametrize("tagged, want", [
    ("", []),
    ("<mark></mark>", []),
    ("</mark>a<mark>b<mark>c</mark>d", [Segment("a"), Segment("b", True), Segment("c", True), Segment("d")]),
    ("<mark>a</mark><mark>b</mark>", [Segment("a", True), Segment("b", True)]),
    ("<b>x</b>", [Segment("<b>x</b>")]),
])
def test_odd_strings_give_text_never_an_error(tagged, want):
    assert segments(tagged) == want


@given(st.lists(st.tuples(st.text(max_size=30), st.booleans()), max_size=8))
def test_any_text_round_trips(parts):
    tagged = "".join(PRE_TAG + encoded(t) + POST_TAG if mark else encoded(t) for t, mark in parts)
    got = segments(tagged)
    assert plain_text(got) == "".join(t for t, _ in parts)
    assert "".join(s.text for s in got if s.mark) == "".join(t for t, mark in parts if mark)
    assert all(s.text for s in got) and all(a.mark or b.mark for a, b in zip(got, got[1:]))
