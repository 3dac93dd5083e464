"""The cluster's highlighter output read back as segments: the one place the library reads markup.

OpenSearch's highlighter returns strings: with the ``html`` encoder, the source text HTML-escaped
(``<`` ``&`` ``"`` ``'`` ``/`` as entities) and each matched word between ``PRE_TAG`` and
``POST_TAG``. Because the text is escaped, those two exact tags are the only ``<`` in the
string: a dispatch that contains ``<mark>`` itself arrives as ``&lt;mark&gt;`` and stays text.
``segments`` splits on the tags and unescapes the text between them, so the cluster engine
returns the same ``Segment`` data as the Whoosh one; the web layer escapes it again as it renders.
"""
from __future__ import annotations

import html
import re

from ..highlight import merged
from ..model import Segment

PRE_TAG = "<mark>"
POST_TAG = "</mark>"
ENCODER = "html"  # escapes the text around the tags (see above): never change one without the other
_TAGS = re.compile("(" + re.escape(PRE_TAG) + "|" + re.escape(POST_TAG) + ")")


def segments(tagged: str) -> list[Segment]:
    """The segments of one highlighter string (escaped text, PRE_TAG … POST_TAG around marks).

    Tags out of order (a stray closing tag, a nested opening one) change nothing but the
    marking; whatever else the string holds is text.
    """
    out: list[Segment] = []
    inside = False
    for piece in _TAGS.split(tagged or ""):
        if piece == PRE_TAG:
            inside = True
        elif piece == POST_TAG:
            inside = False
        elif piece:
            out.append(Segment(html.unescape(piece), inside))
    return merged(out)
