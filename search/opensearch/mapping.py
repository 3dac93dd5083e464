"""The cluster index's settings and mapping: Dépêche's French analysis written as OpenSearch analyzers.

The rules are those of ``search/analysis.py`` (one definition of the promises; the stop list and
the elided articles are read from there, not copied), in OpenSearch's vocabulary:

* a char filter: ``’`` is read as ``'`` (so ``aujourd’hui`` is ``aujourd'hui``);
* the standard tokenizer (UAX #29): hyphens split (``Pays-Bas`` → ``pays`` ``bas`` at consecutive
  positions); ``l'Alliance``, ``O.N.U`` and ``134.700`` stay one token each for the filters below;
* elision of the project's articles, in any case (``articles_case``);
* lower case, ASCII folding (``États`` → ``etats``, ``cœur`` → ``coeur``);
* the project's own stop list (function words only: ``est``, ``son``, ``été`` are kept);
* dotted acronyms joined (``o.n.u`` → ``onu``), decimal commas as points (``15,6`` → ``15.6``), a
  number glued to a unit cut in two (``155mm`` → ``155`` ``mm``, ``A320`` → ``a`` ``320``);
* French stemming of the folded word, the accents that Snowball's rules need put back first
  (``-ee``, ``-ees``, ``-iere``, ``-ieres``, ``-erent``), then folded again — as ``analysis.stem``.

Each text field has a ``folded`` sub-field (the same words, not stemmed, stop words kept) for
prefixes (``munit*``), typed forms and the did-you-mean suggester.
"""
from __future__ import annotations

from .. import analysis, ranking

ANALYZER = "depeche_fr"
FOLDED_ANALYZER = "depeche_folded"
# "french_snowball": the Whoosh engine's stemmer (Snowball); "light_french": Savoy's light stemmer.
STEMMERS = {"snowball": {"type": "snowball", "language": "French"}, "light_french": {"type": "stemmer", "language": "light_french"}}
DEFAULT_STEMMER = "snowball"
TEXT_FIELDS = ("title", "lead", "body")
# Length normalisation of the ranked field (the body's, which makes most of it).
RANKED_B = 0.6
# precision: "year", "month" or "day", as precise as the source dated it (the dates facet counts
# a dispatch at that precision).
KEYWORD_FIELDS = ("id", "source", "section", "people", "places", "month", "date", "precision", "urgency", "genre", "subjects",
                  "language", "slugline", "story")

# Snowball's French rules for these endings need their accents (analysis._ACCENTED): a folded
# word of at least two letters before the ending gets it back before stemming.
_RESTORE = [("ees", "ées"), ("ee", "ée"), ("ieres", "ières"), ("iere", "ière"), ("erent", "èrent")]


def _restore_filters() -> dict:
    return {
        f"restore_{ending}": {"type": "pattern_replace", "pattern": f"^(\\p{{L}}{{2,}}){ending}$", "replacement": f"$1{accented}"}
        for ending, accented in _RESTORE
    }


def analysis_settings(stemmer: str = DEFAULT_STEMMER) -> dict:
    """The ``analysis`` section of the index settings."""
    if stemmer not in STEMMERS:
        raise ValueError(f"unknown stemmer {stemmer!r}: one of {', '.join(STEMMERS)}")
    common_chain = ["depeche_elision", "lowercase", "asciifolding", "join_acronym", "decimal_point", "unit_split"]
    restore = list(_restore_filters())
    stem_chain = restore if stemmer == "snowball" else []
    return {
        "char_filter": {
            "apostrophe": {"type": "mapping", "mappings": ["’ => '", "ʼ => '"]},
        },
        "filter": {
            "depeche_elision": {"type": "elision", "articles_case": True, "articles": sorted(analysis.ELIDED)},
            "depeche_stop": {"type": "stop", "stopwords": sorted(analysis.STOP_WORDS), "ignore_case": False},
            "join_acronym": {"type": "pattern_replace", "pattern": "(?<=\\p{L})\\.(?=\\p{L})", "replacement": ""},
            "decimal_point": {"type": "pattern_replace", "pattern": "(?<=\\d),(?=\\d)", "replacement": "."},
            # Only a number glued to a unit is cut (``155mm`` → ``155`` ``mm``, with their own
            # offsets): ``'`` and ``.`` count as letters and digits, so ``aujourd'hui`` and
            # ``134.700`` stay whole (acronym dots are already gone).
            "unit_split": {
                "type": "word_delimiter_graph", "generate_word_parts": True, "generate_number_parts": True,
                "split_on_case_change": False, "split_on_numerics": True, "stem_english_possessive": False,
                "preserve_original": False, "catenate_words": False, "catenate_numbers": False,
                "type_table": ["' => ALPHA", ". => DIGIT"],
            },
            # As analysis.stem: numbers and words of one or two letters are not stemmed.
            "short_words": {"type": "keyword_marker", "keywords_pattern": "^(.{1,2}|\\d.*)$"},
            "depeche_stemmer": STEMMERS[stemmer],
            **_restore_filters(),
        },
        "analyzer": {
            ANALYZER: {
                "type": "custom",
                "char_filter": ["apostrophe"],
                "tokenizer": "standard",
                "filter": [*common_chain, "depeche_stop", "short_words", *stem_chain, "depeche_stemmer", "asciifolding"],
            },
            FOLDED_ANALYZER: {
                "type": "custom",
                "char_filter": ["apostrophe"],
                "tokenizer": "standard",
                "filter": common_chain,
            },
        },
    }


def _text_field(name: str) -> dict:
    return {
        "type": "text",
        "analyzer": ANALYZER,
        "similarity": f"bm25_{name}",
        # Offsets in the postings: the unified highlighter marks words without re-analysing.
        "index_options": "offsets",
        "fields": {"folded": {"type": "text", "analyzer": FOLDED_ANALYZER, "index_options": "offsets"}},
    }


def mappings() -> dict:
    """The fields of a dispatch in the cluster (``documents.to_source`` fills them)."""
    props: dict = {name: _text_field(name) for name in TEXT_FIELDS}
    # What words are ranked on: one field, BM25F by repetition (writer.ranked_text), so that a
    # word's occurrences in the title, the lead and the body share one idf and one saturation
    # as in the Whoosh ranking (per-field BM25 saturates each field apart: a common word
    # repeated in the lead would outweigh a rare one). Not stored, no positions: phrases, marks
    # and prefixes read title, lead and body.
    props["ranked"] = {"type": "text", "analyzer": ANALYZER, "similarity": "bm25_ranked", "index_options": "freqs", "norms": True}
    props.update({name: {"type": "keyword"} for name in KEYWORD_FIELDS})
    props.update({
        "day": {"type": "integer"},  # YYYYMMDD, 00 for unknown parts; 0 undated
        "when": {"type": "date", "format": "strict_date||yyyy-MM"},  # month or day precision: the histograms
        "release": {"type": "long"},  # embargo end, epoch seconds; 0: none
        "has_lead": {"type": "boolean"},
        # Display values only, never searched.
        "display": {"type": "object", "enabled": False},
        # Stories (story_groups.py): the band keys a new dispatch looks its candidates up by, and
        # what comparing with it needs (signature, day, headline key), kept in the source only.
        "story_bands": {"type": "long", "doc_values": False},
        "story_member": {"type": "object", "enabled": False},
    })
    return {"dynamic": "strict", "properties": props}


def index_body(shards: int = 1, replicas: int = 1, stemmer: str = DEFAULT_STEMMER) -> dict:
    """Settings and mapping of a new index (a rebuild's, or a test's)."""
    return {
        "settings": {
            "number_of_shards": shards,
            "number_of_replicas": replicas,
            # BM25 per field, with the Whoosh engine's saturation and length normalisation.
            "similarity": {
                **{f"bm25_{name}": {"type": "BM25", "k1": ranking.DEFAULT_PARAMS.k1, "b": ranking.DEFAULT_PARAMS.b[name]}
                   for name in TEXT_FIELDS},
                "bm25_ranked": {"type": "BM25", "k1": ranking.DEFAULT_PARAMS.k1, "b": RANKED_B},
            },
            "analysis": analysis_settings(stemmer),
            "max_result_window": 10_000,
        },
        "mappings": mappings(),
    }
