"""Which countries a text names, so that a question about one country is not answered with an entry about another.

"Did Japan investigate the stations?" shares every word but one with "did Spain investigate the stations?", and the
matcher, which weighs words, may answer it with Spain's entry: a sourced card, about the wrong country. A
``Gazetteer`` finds the places a text names, in any of the bot's languages or in Chinese characters, and gives the
countries they lie in: the country names and the time-zone cities of Unicode's CLDR (through babel, in every
language the bot speaks, so also Japan, Japón, 日本, Auckland, 奥克兰), and the places ``knowledge/names.yaml`` lists
with their countries (``within``). Regions (Latin America, Europe) name their continent, and every country lies in
the continent of its time zones. China and its cities are left out: every question is about China.

The matcher uses it in ``Matcher.search`` (``Matcher._about_places``): an entry about places (``focus_of``: most of
its phrasings name one) neither answers nor is offered for a question that names countries it does not speak of,
nor their continent, nor a person or organisation it is about (``covers``). When that leaves the question
unanswered, the reply names the countries it names that no entry names, in the asker's language (``place_names``).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from functools import cache

import regex
from babel import Locale
from babel.core import get_global
from babel.dates import get_timezone_location
from babel.lists import format_list

from bot.i18n import locale_of
from bot.text import fold

#: CLDR locales whose names are read: the bot's languages (Portuguese as written in Brazil and in Portugal).
_LOCALES = ("en", "es", "nl", "it", "fr", "de", "pt", "pt_PT", "zh_Hans", "zh_Hant")
#: The continents, as the first part of the time zones' names (the oceans' islands, "Atlantic/Reykjavik", have
#: cities but no continent), and the UN M49 regions (CLDR's numeric territory codes) that lie in one of them; a
#: region spanning several (the world, "Outlying Oceania") names none.
_ZONE_CONTINENT = {"Europe": "Europe", "America": "Americas", "Asia": "Asia", "Africa": "Africa",
                   "Australia": "Oceania", "Pacific": "Oceania"}
_ZONE_AREAS = frozenset({*_ZONE_CONTINENT, "Atlantic", "Indian"})
#: The continents, as ``Gazetteer.places`` names them.
CONTINENTS = frozenset(_ZONE_CONTINENT.values())
_REGION_CONTINENT = {
    "019": "Americas", "419": "Americas", "003": "Americas", "005": "Americas", "013": "Americas", "021": "Americas",
    "029": "Americas", "150": "Europe", "151": "Europe", "154": "Europe", "155": "Europe", "039": "Europe",
    "EU": "Europe", "EZ": "Europe", "002": "Africa", "011": "Africa", "014": "Africa", "015": "Africa",
    "017": "Africa", "018": "Africa", "202": "Africa", "142": "Asia", "030": "Asia", "034": "Asia", "035": "Asia",
    "143": "Asia", "145": "Asia", "009": "Oceania", "053": "Oceania", "054": "Oceania", "057": "Oceania",
    "061": "Oceania",
}
_HAN = regex.compile(r"\p{Han}")
_TOKEN = regex.compile(r"(\p{Han}+)|([^\s\p{Han}]+)")  # a run of Chinese characters, or a word
#: What ``Gazetteer.places`` puts before a person's or an organisation's name, to tell it from a place.
SUBJECT = "@"
#: Left out: China (every question is about it), codes that are no place people ask about, and parts of countries
#: CLDR gives codes of their own (the Canary Islands, Ceuta and Melilla: Spain's time zones name them too).
_SKIP = frozenset({"CN", "ZZ", "UN", "QO", "XA", "XB", "IC", "EA", "AC", "CP", "DG", "TA"})
#: CLDR names (folded) that are more often an ordinary word in one of the bot's languages, a person, or another
#: place than the place: Lima (a file in Portuguese), Colombo (a surname), Granada (Grenada in Spanish, a city in
#: Spain), Island (Iceland in German); and Chinese names found inside other words, as Chinese has no spaces: 海地
#: (Haiti) in 沿海地区, 里加 (Riga) in 这里加, 中美 (Central America) in 中美关系, 雪梨 (Sydney in Taiwan) a pear.
_ORDINARY = frozenset({
    "lima", "colombo", "victoria", "vitoria", "monaco", "mahe", "aden", "nome", "center", "wake", "midway",
    "easter", "chatham", "phoenix", "denver", "detroit", "palmer", "casey", "davis", "troll", "thule", "truk",
    "chuuk", "kingston", "hamilton", "stanley", "nassau", "cita", "oma", "gana", "ama", "ira", "mali", "oral",
    "regina", "bahia", "baia", "canton", "kanton", "island", "cocos", "caiman", "mosca", "pasqua", "reunion",
    "reuniao", "granada", "salvador", "jersey", "georgia", "chad", "jordan", "darwin", "sofia", "samara", "navidad",
    "christmas", "norfolk", "santarem", "merida", "guadalupe", "servia", "servie", "resolute", "dawson",
    "海地", "里加", "加纳", "马里", "马利", "中美", "中非", "阿曼", "多哥", "东加", "巴林", "帕劳", "汤加", "威克",
    "诺姆", "图勒", "波夕", "朱诺", "朱巴", "查坦", "杜里", "廷布", "比绍", "班吉", "班竹", "洛美", "开云", "鹅湾",
    "道森", "达卡", "赤塔", "巴库", "利马", "塔林", "西亚", "南亚", "古晋", "坤甸", "安曼", "巴伊亚", "雪梨",
    "格兰场", "万象", "金边", "仰光",
})


@cache
def _cldr_places() -> dict[str, frozenset[str]]:
    """Folded CLDR names of countries, regions and time-zone cities in the bot's languages: their countries (a
    city), or their continent (a region). Read once a process (about 0.3 s)."""
    out: dict[str, set[str]] = {}
    for loc in _LOCALES:
        for code, name in Locale.parse(loc).territories.items():
            place = _REGION_CONTINENT.get(code) or (code if len(code) == 2 and code.isalpha() else None)
            if place and place not in _SKIP:
                out.setdefault(fold(name), set()).add(place)
    for zone, country in get_global("zone_territories").items():
        # not the cities of a country's provinces (America/Argentina/Cordoba: Córdoba is also in Spain)
        if country in _SKIP or zone.count("/") != 1 or zone.partition("/")[0] not in _ZONE_AREAS:
            continue
        for loc in _LOCALES:
            out.setdefault(fold(get_timezone_location(zone, locale=loc, return_city=True)), set()).add(country)
    return {name: frozenset(codes) for name, codes in out.items() if len(name) > 1 and name not in _ORDINARY}


@cache
def continent_of() -> dict[str, str]:
    """Each country's continent: where most of its time zones are (Russia's: Asia), on a tie the one listed first in
    ``_ZONE_CONTINENT`` (Spain's Madrid and Ceuta: Europe; Ecuador's Guayaquil and Galápagos: the Americas); none
    for a country whose zones are all on an ocean's islands (Iceland)."""
    counts: dict[str, Counter[str]] = {}
    for zone, country in get_global("zone_territories").items():
        continent = _ZONE_CONTINENT.get(zone.partition("/")[0])
        if continent:
            counts.setdefault(country, Counter())[continent] += 1
    rank = {continent: n for n, continent in enumerate(dict.fromkeys(_ZONE_CONTINENT.values()))}  # ties: first listed
    return {country: min(c, key=lambda k: (-c[k], rank[k])) for country, c in counts.items()}


class Gazetteer:
    """The countries and continents a text names (CLDR's names, and ``names.yaml``'s places with their countries),
    and the people and organisations it names (``names.yaml``'s other groups, as "@" and their first name).

    ``names`` and ``within`` are the knowledge base's (``KnowledgeBase.names``, ``.within``): a group of names whose
    CLDR country is clear (Netherlands, 荷兰) names that country, and so does every place ``within`` puts in it
    (Rotterdam, Tweede Kamer); the other groups (Wang Jingyu, Safeguard Defenders, Fuzhou) are subjects.
    """

    def __init__(self, names: Iterable[Sequence[str]] = (), within: Iterable[Sequence[str]] = ()) -> None:
        cldr = _cldr_places()
        places: dict[str, frozenset[str]] = dict(cldr)
        groups = [(group[0], tuple(f for f in (fold(n) for n in group) if f)) for group in names if group]
        group_of = {form: forms for _, forms in groups for form in forms}
        for _, forms in groups:
            codes = frozenset().union(*(cldr.get(f, frozenset()) for f in forms))
            if len(codes) == 1:
                places.update(dict.fromkeys(forms, codes))
        for country, *inside in within:
            codes = places.get(fold(country), frozenset())
            if len(codes) == 1:
                places.update(dict.fromkeys((f for place in inside for f in group_of.get(fold(place), ())), codes))
        for first, forms in groups:
            if not any(f in places for f in forms):
                places.update(dict.fromkeys(forms, frozenset({SUBJECT + first})))
        # names are looked up from every word, and in a run of Chinese characters from every character, the longest
        # first (as ``Aliases`` reads them): a few dictionary reads a word, where one pattern of the 3,000 names
        # took 0.12 ms a question and 2.7 s for the phrasings
        self._latin = {name: codes for name, codes in places.items() if not _HAN.search(name)}
        self._han = {name: codes for name, codes in places.items() if _HAN.search(name)}
        # the most words (characters) a name starting with a word (character) has
        self._words: dict[str, int] = {}
        for name in self._latin:
            first, *rest = name.split(" ")
            self._words[first] = max(self._words.get(first, 0), len(rest) + 1)
        self._chars: dict[str, int] = {}
        for name in self._han:
            self._chars[name[0]] = max(self._chars.get(name[0], 0), len(name))

    def places(self, text: str, ordinary: frozenset[str] = frozenset()) -> frozenset[str]:
        """Country codes (ISO 3166, "NZ"), continents ("Americas") and subjects ("@Wang Jingyu") named in ``text``,
        but for ``ordinary`` words (folded: names the text uses as words, ``Aliases.ordinary_words``)."""
        return self.places_in_folded(fold(text), ordinary)

    def places_in_folded(self, folded: str, ordinary: frozenset[str] = frozenset()) -> frozenset[str]:
        """``places`` for a text already folded (``text.fold``; names read by ``Aliases`` are fine: "rotterdam
        netherlands")."""
        found: set[str] = set()
        words: list[str] = []
        for m in _TOKEN.finditer(folded):
            if m.group(1):  # a run of Chinese characters ends the Latin words before it
                self._find(words, " ", self._latin, self._words, ordinary, found)
                words = []
                self._find(m.group(1), "", self._han, self._chars, ordinary, found)
            else:
                words.append(m.group(2))
        self._find(words, " ", self._latin, self._words, ordinary, found)
        return frozenset(found)

    @staticmethod
    def _find(parts: Sequence[str], glue: str, names: dict[str, frozenset[str]], longest: dict[str, int],
              ordinary: frozenset[str], found: set[str]) -> None:
        """The names among ``parts`` (words, or characters), each the longest starting at its part (``longest``:
        how many parts the longest name starting with a part has)."""
        i = 0
        while i < len(parts):
            for n in range(min(longest.get(parts[i], 0), len(parts) - i), 0, -1):
                name = glue.join(parts[i : i + n])
                if name in names:
                    if name not in ordinary:
                        found |= names[name]
                    i += n
                    break
            else:
                i += 1


#: The UN M49 code of each continent, for its name in a language (CLDR names regions by these codes).
_CONTINENT_REGION = {"Europe": "150", "Americas": "019", "Asia": "142", "Africa": "002", "Oceania": "009"}


def place_names(places: Iterable[str], lang: str) -> str:
    """Countries and continents (as ``Gazetteer.places`` gives them) named in language ``lang`` (a code of
    ``bot.languages``) and joined as it joins a list: "Japan and South Korea", 日本和韩国, "Japón y Corea del Sur"."""
    codes = [_CONTINENT_REGION.get(p, p) for p in places if not p.startswith(SUBJECT)]
    if not codes:  # most replies: no place to name, no locale to read
        return ""
    locale = Locale.parse(locale_of(lang))
    return format_list([locale.territories.get(code, code) for code in codes], locale=locale)


def covers(scope: frozenset[str], named: frozenset[str]) -> bool:
    """Whether an entry whose ``scope`` is the places and subjects it speaks of may answer a question naming
    ``named``: when the question names no country or continent, or a person or organisation the entry speaks of
    ("I live in Zurich: who is Wang Jingyu?"), or a country the entry names, or one in a continent it names (Latin
    America's entry takes in Mexico), or a continent with a country it names in it ("stations in Europe?" and the
    Netherlands' entry)."""
    countries = {p for p in named if not p.startswith(SUBJECT)}
    if not countries or any(p in scope for p in named if p.startswith(SUBJECT)):
        return True
    continents = continent_of()
    return any(c in scope or continents.get(c) in scope for c in countries) or any(
        continents.get(c) in countries for c in scope)


def focus_of(named: Sequence[frozenset[str]], placed: float, share: float) -> frozenset[str]:
    """What an entry is about, from what each of its phrasings names (``named``): nothing when fewer than ``placed``
    of them name a country or continent; else the places and subjects at least ``share`` of them name."""
    if not named or sum(any(not p.startswith(SUBJECT) for p in n) for n in named) < placed * len(named):
        return frozenset()
    counts = Counter(p for n in named for p in n)
    return frozenset(p for p, k in counts.items() if k >= share * len(named))
