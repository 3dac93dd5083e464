"""French words: the function words, titles and particles the rules know, the model's lemma
tables (common words in their inflections) and the stop lists of data/ (loaded on first use).
"""
from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

from .text import entity_key, fold, strip_accents

MODEL_NAME = "fr_core_news_sm"
# search/data/, beside this package: the word lists and places_fr.txt.
DATA = Path(__file__).parent.parent / "data"


def read_list(name: str) -> list[str]:
    """The entries of a data/ word list, without comments and blank lines."""
    out = []
    for line in (DATA / name).read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            out.append(line)
    return out


# French function words: sentence-initial capitals make the model tag them ("Les", "A").
FUNCTION_WORDS = frozenset(fold(w) for w in
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
TITLES = frozenset(
    fold(w)
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
PARTICLES = frozenset(
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
    return {pos: frozenset(fold(w) for w in words) for pos, words in by_pos.items()}


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
def word_kind(word: str) -> str:
    """How ``word`` is a French common word: "function", "adj", "lemma", "plural", "inflected" or ""."""
    w = fold(word)
    if w in FUNCTION_WORDS:
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


def is_common_word(word: str) -> bool:
    """True for a French common word in any regular inflection ("Nouvelles", "Ukrainiens")."""
    return bool(word_kind(word))


@lru_cache(maxsize=1)
def stoplists() -> tuple[frozenset[str], frozenset[str]]:
    """Keys that are never places, and keys that are never people (organisations are neither)."""
    orgs = [entity_key(w) for w in read_list("organisations.txt")]
    not_places = frozenset([entity_key(w) for w in read_list("not_places.txt")] + orgs)
    person_stop = frozenset([entity_key(w) for w in read_list("person_stop.txt")] + orgs)
    return not_places, person_stop


@lru_cache(maxsize=1)
def company_words() -> frozenset[str]:
    """Legal forms and business nouns that end a company's name (data/company_words.txt), folded."""
    return frozenset(fold(w) for w in read_list("company_words.txt"))


@lru_cache(maxsize=1)
def _first_name_detector():
    # gender-guesser's dictionary of first names by country (about 45,000 names, ~2 s to load):
    # read only by the extractor, when a name must be told from a brand.
    import gender_guesser.detector

    return gender_guesser.detector.Detector(case_sensitive=False)


@lru_cache(maxsize=1 << 16)
def is_first_name(word: str) -> bool:
    """True for a known first name (« Olivier », « Jean-Marie », « Élisabeth »), not a French function word."""
    if word_kind(word) == "function":
        return False  # « Non » is a name somewhere, and « Non Stop Zapping » no person
    detector = _first_name_detector()
    for part in re.split(r"[-'’]", word):
        if part and any(detector.get_gender(p) != "unknown" for p in {part, strip_accents(part)}):
            return True
    return False


def first_names_version() -> str:
    """The version of the first-name dictionary: part of the extractor's cache key."""
    from importlib import metadata

    try:
        return metadata.version("gender-guesser")
    except metadata.PackageNotFoundError:
        return "none"
