"""People: names cleaned of titles and articles, mentions read from the recogniser's spans and from
titles ("M. Martinez"), one canonical name per person per document.
"""
from __future__ import annotations

import collections
import re

from .gazetteer import gazetteer
from .lexicon import FUNCTION_WORDS, PARTICLES, TITLES, company_words, is_common_word, is_first_name, stoplists, word_kind
from .text import EDGE_PUNCT, SPACES, choose_display, entity_key, fold, glued, sentence_initial

Mention = tuple[str, int, bool]  # (name, position, titled)

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
    span = SPACES.sub(" ", span).strip(EDGE_PUNCT)
    tokens = [t.strip(EDGE_PUNCT.replace("'", "").replace("’", "")) or t for t in span.split(" ")]
    tokens = [_PREFIX_COMPOUND.sub("", t) for t in tokens if t.strip(EDGE_PUNCT)]
    # Leading titles, articles and lower-case words ("le président", "M.", "affaire").
    titled = False
    while tokens:
        t, folded = tokens[0], fold(tokens[0]).rstrip(".")
        nxt = tokens[1] if len(tokens) > 1 else ""
        if titled and (folded in ("du", "des") or folded == "de" and fold(nxt) in ("la", "l'", "l’")
                       or folded == "de" and re.match(r"[lL]['’]", nxt)):
            # "ministre de l'Intérieur Gérald Darmanin", "Président de la République": the
            # portfolio is no part of the name.
            tokens.pop(0)
            if tokens and fold(tokens[0]) in ("la", "l'", "l’"):
                tokens.pop(0)
            if tokens:
                tokens.pop(0)
            continue
        if folded in ("de", "du", "des", "d'", "d’") and t[:1].islower() and nxt[:1].isupper():
            break  # "de Gaulle", "de Rugy": a particle starting the surname
        if t[:1].isupper() and folded in ("le", "la", "les") and nxt[:1].isupper() and fold(nxt) not in TITLES:
            break  # "Le Pen", "Le Drian", "La Fontaine"
        if folded in TITLES or (t[:1].islower() and folded not in PARTICLES) or re.fullmatch(r"[lLdD]['’]", t):
            titled = titled or folded not in ("le", "la", "les", "l", "l'", "l’")
            tokens.pop(0)
        else:
            break
    # A lower-case word that is no particle ends the name ("Pouget a", "Premier ministre ce").
    for i, t in enumerate(tokens):
        if i and t[:1].islower() and fold(t) not in PARTICLES and not _ELIDED_NAME.match(t):
            tokens = tokens[:i]
            break
    # Trailing particles and capitalised function words ("Edouard Philippe En").
    while tokens and (fold(tokens[-1]) in PARTICLES
                      or not (tokens[-1][:1].isupper() or _ELIDED_NAME.match(tokens[-1]))
                      or len(tokens) > 1 and len(tokens[-1]) > 1 and fold(tokens[-1]) in FUNCTION_WORDS):
        tokens.pop()
    half = len(tokens) // 2
    if half and len(tokens) % 2 == 0 and tokens[:half] == tokens[half:]:
        tokens = tokens[:half]  # "Claude Guéant Claude Guéant": a caption repeated
    if not tokens:
        return None
    name = " ".join(tokens).strip(EDGE_PUNCT)
    letters = [c for c in name if c.isalpha()]
    if (
        not name
        or any(c.isdigit() for c in name)
        or any(c in name for c in "@#/_\\|=+<>[]{}")
        or len(letters) < 2
        or all(c.isupper() for c in letters)  # "VOUS", "HABITUÉ": shouted headlines, acronyms
        or not (name[:1].isupper() or fold(tokens[0]) in PARTICLES and len(tokens) > 1)
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


_ARTICLE_BEFORE = re.compile(r"(?:\b(?:le|la|les|du|au|aux)\s+|\b[lL]['’]|\()$", re.IGNORECASE)
_INVERSION = re.compile(r"-(?:t-)?(?:vous|tu|nous|je|il|elle|on|ils|elles)\b")
_TOPONYM_SHAPE = re.compile(r"[A-ZÀ-ÖØ-Þ][a-zà-öø-ÿ]+(?:-(?:[a-zà-öø-ÿ]+-)?[A-ZÀ-ÖØ-Þ][a-zà-öø-ÿ]+)+")
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
        if not sentence_initial(text, pos):
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
    not_places, person_stop = stoplists()
    gaz = gazetteer()
    people, places = [], []
    for k in sorted(totals, key=lambda k: first[k]):
        display = choose_display(forms[k])
        words = k.split()
        if (
            k in person_stop or k in not_places or words[-1] in gaz.countries
            or organisation_name(display, titled=k in titled)
            or words[0] in gaz.countries and any(is_common_word(w) for w in words[1:])
            or len(words) == 2 and words[0] in ("le", "la", "les") and is_common_word(words[1])
        ):
            continue  # "Matignon", "France Bleu", "Santé publique France", "La Cour"
        if len(display.split()) == 1 and totals[k] == counts[k] and k not in titled:
            # A lone word, never part of a fuller name nor after "M.", "Mme": not a common word
            # capitalised by its place in the sentence ("Samedi", "Grève"), not a country or
            # region, not a name the model mostly gives another label here (a newspaper).
            kind = word_kind(display)
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


def organisation_name(name: str, titled: bool = False) -> bool:
    """True for a company or brand the recogniser took for a person: a legal form or business noun
    last (« Macau Holdings »), or, unless it opens with a first name or follows a title, a plural
    noun last (« Calbee Snacks ») or only capitalised French common words (« Stop Zapping »)."""
    words = name.split()
    if len(words) < 2:
        return False
    if fold(words[-1]) in company_words():
        return True
    if titled or is_first_name(words[0]) or fold(words[0]) in PARTICLES:
        return False
    if word_kind(words[-1]) == "plural":
        return True  # a surname is no plural noun: « Snacks », « Productions »
    return all(word_kind(w) for w in words)


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
    if words and word_kind(words[0]) == "adj" and words[0][:1].isupper():
        # A capitalised demonym heading the span stands for the role: "la Malaisienne X".
        role, words = True, words[1:]
    if not role or not 2 <= len(words) <= 4:
        return None
    if not all(_NAME_WORD.fullmatch(w) and not is_common_word(w) for w in words):
        return None
    name = " ".join(words)
    gaz = gazetteer()
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


def person_mentions(text: str, ents: list[tuple[int, int, str]]) -> tuple[list[Mention], set[str]]:
    """The person mentions of one document in text order, and the keys of every name the
    recogniser called a person (even those rejected here)."""
    per_mentions: list[Mention] = []
    raw_person: set[str] = set()
    gaz = gazetteer()
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
        elif label != "LOC":
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
        if glued(text, m.start()):
            continue
        name = clean_person(m.group("name"))
        if name:
            per_mentions.append((name, m.start("name"), True))
    per_mentions.sort(key=lambda m: m[1])
    return per_mentions, raw_person
