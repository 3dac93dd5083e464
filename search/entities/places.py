"""Places: the recogniser's LOC spans validated against the gazetteer, places named inside
organisations ("mairie de Paris"), and the parks, lakes, streets and regions it misses.
"""
from __future__ import annotations

import collections
import re

from .gazetteer import gazetteer
from .lexicon import FUNCTION_WORDS, is_common_word, stoplists
from .text import EDGE_PUNCT, SPACES, choose_display, entity_key, fold, glued, sentence_initial

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

_TOWN_BEFORE = re.compile(r"(?:\b(?:à|de|près de)\s+|\bd['’])$", re.IGNORECASE)
# Compass areas (« le Sud-Ouest », « du Nord-Est ») are places as names, with the article; bare and
# capitalised they are a newspaper's title (« rapporte Sud-Ouest ») or a direction (« un quart Sud-Ouest »).
# « Grand Est » is a région's own name, and « Lille (Nord) » names the département.
_COMPASS = re.compile(r"(?:Nord|Sud|Centre)(?:[- ](?:Est|Ouest))?|Est|Ouest", re.IGNORECASE)
_COMPASS_ARTICLE = re.compile(r"(?:\b(?:le|du|au)\s+|\b[lL]['’]\s*)$", re.IGNORECASE)
# A title after a media noun is the medium's, not a place: « le quotidien Sud Ouest », « le site Paris Match ».
_MEDIA_BEFORE = re.compile(
    r"\b(?:journal|quotidien|hebdomadaire|magazine|mensuel|site|radio|chaîne|confrère|confrères|"
    r"journaux|quotidiens)(?:\s+(?:régional|régionale|national|nationale|local|locale|gratuit|britannique|"
    r"américain|belge|suisse|allemand|espagnol|italien))?\s+$",
    re.IGNORECASE,
)


def media_or_direction(text: str, start: int, name: str) -> bool:
    """True when the name at ``start`` is a medium's title or a bare compass direction, not a place."""
    before = text[max(0, start - 40):start]
    if _MEDIA_BEFORE.search(before):
        return True
    if not _COMPASS.fullmatch(name) or _COMPASS_ARTICLE.search(before):
        return False
    # « Villeneuve-d'Ascq (Nord) »: a département after its town.
    return not (before.endswith("(") and entity_key(name) in gazetteer().french_areas)


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


def org_names(text: str) -> list[tuple[int, int]]:
    """Spans of organisations named with place words ("France insoumise"): never places."""
    if "arche" not in text and "nsoumise" not in text and "ceaux" not in text:
        return []
    return [(m.start(), m.end()) for m in _ORG_NAMES.finditer(text)]


def clean_place(span: str) -> str:
    """A span without surrounding punctuation and with single spaces."""
    span = SPACES.sub(" ", span).strip(EDGE_PUNCT.replace("'", "").replace("’", ""))
    return span.strip("'’ ")


class Places:
    """Collects the place mentions of one document."""

    def __init__(self, text: str, person_keys: set[str], other_keys: set[str] = frozenset()) -> None:
        self.text = text
        self.person_keys = person_keys
        self.other_keys = other_keys  # names the model labels ORG or MISC in this document
        self.gaz = gazetteer()
        self.not_places, _ = stoplists()
        self.found: list[tuple[str, int]] = []
        self.covered: list[tuple[int, int]] = []  # spans already read as a longer place

    def validate(self, name: str, start: int) -> str | None:
        """The display form of ``name`` when it is a place, else None."""
        key = entity_key(name)
        if not key or key in self.not_places or key in FUNCTION_WORDS:
            return None
        if _ROAD.match(name):
            return name
        if media_or_direction(self.text, start, name):
            return None
        if any(c.isdigit() for c in name):
            return None
        letters = [c for c in name if c.isalpha()]
        if len(letters) < 2 or not name[:1].isupper() and not _GEO_START.match(name):
            return None
        m = _GEO_PHRASE.fullmatch(name)
        if m:
            if name[:1].isupper() and fold(m.group("noun")) in _GEO_LOWER_ONLY:
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
            if len(words) == 2 and words[0] in ("Le", "La", "Les") and is_common_word(words[1]):
                words = words[1:]  # "Les Anglais" (a town in Haiti) is mostly the English
            if len(words) == 1 and is_common_word(words[0]) and (
                sentence_initial(self.text, start)
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
            and not is_common_word(name)
            and all(p[:1].isupper() and len(p) > 2 for p in name.split("-"))
        ):
            return name  # "à hauteur de Blajac": a place the model saw, after "à" or "de"
        return None

    def add_span(self, start: int, end: int) -> None:
        text = self.text
        name = clean_place(text[start:end])
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
                self.found.append((self.gaz.display(SPACES.sub(" ", longer)), start))
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
        span = clean_place(self.text[start:end])
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
            if glued(self.text, m.start()):
                continue
            noun = m.group("noun")
            if noun[:1].isupper() and fold(noun) in _GEO_LOWER_ONLY:
                continue
            name = m.group("name").rstrip("'’-")
            key = entity_key(name)
            if _has_acronym(name) or key in self.not_places or is_common_word(name.split()[0]) and len(name.split()) == 1:
                continue
            if not m.group("adj") and key in self.gaz.known:
                continue  # "parc de Mougins": the town is the place, read from the span itself
            phrase = self.text[m.start():m.start("name")] + name
            self.found.append((SPACES.sub(" ", phrase), m.start()))
            self.covered.append((m.start(), m.start("name") + len(name)))

    def scan_areas(self, ents: list[tuple[int, int, str]]) -> None:
        """Countries and regions the model missed ("du nord de la France")."""
        taken = [(s, e) for s, e, label in ents if label != "LOC"]
        taken += org_names(self.text)
        for m in _AREA_SCAN.finditer(self.text):
            if glued(self.text, m.start()):
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
            if key in self.not_places or key in self.person_keys or media_or_direction(self.text, start, name):
                continue
            if n == 1 and is_common_word(name) and key not in self.gaz.french_areas:
                continue  # "la Creuse", "de la Manche" are départements; "le Centre" may be a party
            ext = _EXTENSION.match(self.text[start + len(name):])
            if ext and entity_key(name + ext.group(0)) in self.gaz.known:
                name = SPACES.sub(" ", name + ext.group(0))  # "Europe de l'Est"
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
