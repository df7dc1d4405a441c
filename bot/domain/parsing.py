"""Read an issue draft out of the free text of a Teams message.

"sev1 - nobody in AP can post vendor invoices, posting profile missing" becomes a title, a severity,
a category, an area and, when the text says so, a company and a head count. Every word the parser
knows lives in vocabulary.toml next to this module, so support leads can tune it without touching
code; this module only holds the matching mechanics. A vocabulary is compiled once when loaded and
its phrases are indexed by first word, so parsing a message is a few passes over its words and a few
regex scans; it never raises.
"""

from __future__ import annotations

import functools
import re
import tomllib
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from enum import Enum
from itertools import chain, pairwise
from pathlib import Path
from typing import Any, Generic, TypeVar

from bot.domain.model import (
    AFFECTED_USERS_MAX,
    COMPANY_MAX,
    DESCRIPTION_MAX,
    TITLE_MAX,
    Area,
    Category,
    IssueDraft,
    Severity,
)

__all__ = [
    "DEFAULT_VOCABULARY_PATH",
    "Vocabulary",
    "VocabularyError",
    "explicit_severity",
    "load_vocabulary",
    "parse_issue_draft",
]

DEFAULT_VOCABULARY_PATH = Path(__file__).with_name("vocabulary.toml")

T = TypeVar("T")
E = TypeVar("E", bound=Enum)

# "..." in a vocabulary phrase stands for up to this many words ("nobody ... can").
GAP_MAX_WORDS = 4

# Severity cue tiers: an explicit marker beats a marker word, which beats a phrase.
_TIER_EXPLICIT, _TIER_WORD, _TIER_PHRASE = 0, 1, 2


class VocabularyError(ValueError):
    """The vocabulary file cannot be used; the message names the file and the problem."""


# --- Compiled vocabulary -------------------------------------------------------------------------


# A word of message text as the phrase index sees it: "can't" is one word, its key "cant".
_WORD = re.compile(r"\w[\w']*")
_STEM_INDEX = 2


@dataclass(frozen=True)
class Words:
    """Text split into words once, for all the phrase lists that read it."""

    text: str
    words: tuple[tuple[int, str], ...]  # (start, word)

    @classmethod
    def of(cls, text: str) -> Words:
        return cls(text, tuple((word.start(), word.group()) for word in _WORD.finditer(text)))


@dataclass(frozen=True)
class PhraseEntry(Generic[T]):
    rank: int  # position among all phrases, longest first
    pattern: re.Pattern[str]
    value: T
    weight: int  # points a hit scores: the words of the phrase


@dataclass(frozen=True)
class Phrases(Generic[T]):
    """Phrases indexed by their first word, so a message is read word by word, not phrase by phrase.

    At each word the longest phrase that matches there wins and the words it covers are not read
    again: "sales tax" counts for tax and not also for sales.
    """

    exact: Mapping[str, tuple[PhraseEntry[T], ...]]  # first word -> phrases, longest first
    # Phrases whose first word may continue ("vendor*", the acronym "PO" of "POs"), by the first
    # _STEM_INDEX characters of that word: (stem, phrases) pairs, checked with startswith.
    open_ended: Mapping[str, tuple[tuple[str, tuple[PhraseEntry[T], ...]], ...]]

    def hits(self, text: Words) -> Iterator[tuple[T, int, re.Match[str]]]:
        covered = 0
        for start, word in text.words:
            if start < covered:
                continue
            # Most words start no phrase: settle that with two lookups before anything else.
            if word not in self.exact and word[:_STEM_INDEX] not in self.open_ended and "'" not in word:
                continue
            for entry in self._candidates(word):
                match = entry.pattern.match(text.text, start)
                if match:
                    covered = match.end()
                    yield entry.value, entry.weight, match
                    break

    def _candidates(self, word: str) -> Sequence[PhraseEntry[T]]:
        """Phrases that may start at `word`, longest first."""
        apostrophe = "'" in word
        key = word.replace("'", "") if apostrophe else word
        exact = self.exact.get(key, ())
        stems = self.open_ended.get(key[:_STEM_INDEX], ())
        if not stems and not apostrophe:
            return exact
        found = [exact, *(entries for stem, entries in stems if key.startswith(stem))]
        if apostrophe:  # "user's" may be the phrase "user"
            found.append(self.exact.get(word.partition("'")[0], ()))
        return sorted(chain.from_iterable(found), key=lambda entry: entry.rank)


@dataclass(frozen=True)
class NegationRules:
    negator: re.Pattern[str]
    window: int  # how many words before a cue are searched for a negator

    def cancels(self, text: str, start: int) -> bool:
        """Whether a negator stands among the words just before `start`, in the same clause."""
        before = text[max(0, start - 20 * self.window) : start]
        clause = _CLAUSE_BREAK.split(before)[-1]
        return self.negator.search(" ".join(clause.split()[-self.window :])) is not None


@dataclass(frozen=True)
class SeverityRules:
    explicit: re.Pattern[str]  # "sev1", "P2", "priority: high"; groups `number` or `level` hold the value
    explicit_source: str  # the same markers without groups, to strip them from titles
    levels: Mapping[str, Severity]  # "high" in "priority: high"
    cues: Phrases[tuple[int, Severity]]  # marker words and phrases, tagged with their tier


@dataclass(frozen=True)
class Classifier(Generic[T]):
    keywords: Phrases[T]  # matched in casefolded text
    acronyms: Phrases[T]  # matched with their case: "AP" counts, English "ap" would not
    order: tuple[T, ...]  # tie-break: first listed wins

    def classify(self, cased: Words, folded: Words) -> T | None:
        scores: dict[T, int] = {}
        for value, weight, _ in chain(self.keywords.hits(folded), self.acronyms.hits(cased)):
            scores[value] = scores.get(value, 0) + weight
        if not scores:
            return None
        return max(scores, key=lambda value: (scores[value], -self.order.index(value)))


@dataclass(frozen=True)
class CompanyRules:
    cue: re.Pattern[str]  # groups `cue` and `code`; both are None where a "not cue" matched
    weak_cues: frozenset[str]
    fillers_and_not_codes: frozenset[str]
    reserved: frozenset[str]  # acronyms of areas and categories: "nobody in AP" names no company
    known: frozenset[str]
    known_code: re.Pattern[str]
    lowercase_max: int


@dataclass(frozen=True)
class CountRules:
    pattern: re.Pattern[str]  # groups `count` ("20 users") and `labelled` ("affected users: 20")
    number_words: Mapping[str, int]


@dataclass(frozen=True)
class TitleRules:
    prefix: re.Pattern[str]  # "sev1 - ", "[P1] ", "URGENT: ", "Hi team, " (any run of them)
    abbreviation: re.Pattern[str]  # an abbreviation ending at the end of the searched span
    abbreviation_reach: int  # characters the abbreviation check looks back


@dataclass(frozen=True)
class Vocabulary:
    """Everything the parser knows, compiled once from a vocabulary file."""

    source: Path
    negation: NegationRules
    severity: SeverityRules
    category: Classifier[Category]
    area: Classifier[Area]
    company: CompanyRules
    affected_users: CountRules
    title: TitleRules


# --- Parsing ---------------------------------------------------------------------------------------


def parse_issue_draft(text: str, vocabulary: Vocabulary | None = None) -> IssueDraft:
    """Prefill an issue from free text; every field is a suggestion the reporter may correct."""
    vocab = load_vocabulary() if vocabulary is None else vocabulary
    description = _truncate(_clean(text), DESCRIPTION_MAX)
    if not description:
        return IssueDraft()
    flat = " ".join(description.translate(_TYPOGRAPHIC).split())
    cased, folded = Words.of(flat), Words.of(flat.casefold())  # case matters for acronyms
    return IssueDraft(
        title=_title(description, vocab.title),
        description=description,
        severity=_severity(folded, vocab.severity, vocab.negation),
        category=vocab.category.classify(cased, folded),
        area=vocab.area.classify(cased, folded),
        company=_company(flat, vocab.company),
        affected_users=_affected_users(folded.text, vocab.affected_users),
    )


# Markup Teams can leave behind. Only HTML tag names are removed, so a user's "<item id>" survives.
_BLOCK_TAG = re.compile(r"</?(?:p|div|br|li|ul|ol|tr|td|th|table|blockquote|pre|h[1-6])\b[^<>]*>", re.I)
_INLINE_TAG = re.compile(r"</?(?:at|span|a|b|i|u|s|em|strong|code|font|sub|sup|strike|del|img|hr)\b[^<>]*>", re.I)
_LINE_BREAK = re.compile(r"\r\n?|[\v\f\x85\u2028\u2029]")
# Control and invisible characters, and lone surrogates, which no storage can encode.
_INVISIBLE = re.compile(r"[\x00-\x08\x0e-\x1f\x7f-\x84\x86-\x9f\u200b\u200c\u200e\u200f\u2060\ufeff\ud800-\udfff]")
_HORIZONTAL_SPACE = re.compile(r"[^\S\n]+")
_SPACE_AROUND_NEWLINE = re.compile(r" ?\n ?")
_BLANK_LINES = re.compile(r"\n{3,}")
_TYPOGRAPHIC = str.maketrans("\u2018\u2019\u201a\u02bc\u00b4\u201c\u201d\u201e", "'''''\"\"\"")


def _clean(text: str) -> str:
    """The text as the reporter meant it: no markup or control characters, tidy whitespace."""
    text = _INLINE_TAG.sub("", _BLOCK_TAG.sub("\n", text))
    text = _INVISIBLE.sub("", _LINE_BREAK.sub("\n", text))
    text = _SPACE_AROUND_NEWLINE.sub("\n", _HORIZONTAL_SPACE.sub(" ", text))
    return _BLANK_LINES.sub("\n\n", text).strip()


def _truncate(text: str, limit: int) -> str:
    """At most `limit` characters, cut at a word boundary when one is near, the cut marked with "…"."""
    if len(text) <= limit:
        return text
    head = text[: limit - 1]
    boundary = max(head.rfind(" "), head.rfind("\n"))
    if boundary > limit // 2:
        head = head[:boundary]
    # "posting profile, …" reads better as "posting profile…", but a run of dashes is content.
    tidy = head.rstrip(" \n.,;:-–—")
    return (tidy if len(tidy) > limit // 2 else head.rstrip()) + "…"


# --- Title

# A first sentence longer than this is cut to TITLE_MAX anyway, so the rest of the line is not read.
_TITLE_SCAN = 4 * TITLE_MAX
_SENTENCE_END = re.compile(r"[.!?…]+(?=\s)")
_TITLE_LEAD = " -–—:|*•>#"
_TITLE_TAIL = " .,;:!-–—"


def _title(description: str, rules: TitleRules) -> str:
    """The first sentence of the first line that says more than a severity prefix or a greeting."""
    lines = description.split("\n")
    for line in lines:
        title = _tidy_title(_first_sentence(_strip_prefixes(line[:_TITLE_SCAN], rules), rules))
        if title:
            return _capped_title(title)
    return _capped_title(_tidy_title(lines[0]) or lines[0])


def _strip_prefixes(line: str, rules: TitleRules) -> str:
    prefix = rules.prefix.match(line)
    return line[prefix.end() :] if prefix else line


def _first_sentence(line: str, rules: TitleRules) -> str:
    for end in _SENTENCE_END.finditer(line):
        stop = end.end()
        if not rules.abbreviation.search(line, max(0, stop - rules.abbreviation_reach), stop):
            return line[:stop]
    return line


def _tidy_title(sentence: str) -> str:
    return sentence.lstrip(_TITLE_LEAD).rstrip(_TITLE_TAIL)


def _capped_title(title: str) -> str:
    return _truncate(title[:1].upper() + title[1:], TITLE_MAX)


# --- Severity

# Where a negation stops reaching: "we can't post - urgent" keeps its "urgent".
_CLAUSE_BREAK = re.compile(r"[.!?;:,()\[\]\"…]| [-–—/]+ ")


def _severity(folded: Words, rules: SeverityRules, negation: NegationRules) -> Severity | None:
    """The lowest tier with a (non-negated) cue decides; within it the most severe cue wins."""
    best: tuple[int, Severity] | None = None
    for tier, severity, match in _severity_cues(folded, rules):
        if (best is None or (tier, severity) < best) and not negation.cancels(folded.text, match.start()):
            best = (tier, severity)
    return best[1] if best else None


def explicit_severity(text: str, vocabulary: Vocabulary | None = None) -> Severity | None:
    """The severity the reporter wrote as a marker ("sev1", "P2", "priority: high"), not negated; else None.

    A marker is a decision, not a hint: the learned model never overrides it (bot/domain/prefill.py)."""
    vocab = load_vocabulary() if vocabulary is None else vocabulary
    folded = " ".join(_clean(text)[:DESCRIPTION_MAX].translate(_TYPOGRAPHIC).casefold().split())
    found = [
        Severity(int(match.group("number"))) if match.group("number") else vocab.severity.levels[match.group("level")]
        for match in vocab.severity.explicit.finditer(folded)
        if not vocab.negation.cancels(folded, match.start())
    ]
    return min(found, default=None)


def _severity_cues(folded: Words, rules: SeverityRules) -> Iterator[tuple[int, Severity, re.Match[str]]]:
    for match in rules.explicit.finditer(folded.text):
        number = match.group("number")
        yield _TIER_EXPLICIT, Severity(int(number)) if number else rules.levels[match.group("level")], match
    for (tier, severity), _, match in rules.cues.hits(folded):
        yield tier, severity, match


# --- Company


def _company(text: str, rules: CompanyRules) -> str | None:
    """A code after a cue ("company usmf"), else a known code written on its own ("in USMF")."""
    for match in rules.cue.finditer(text):
        code = match.group("code")
        if code and _is_company_code(code, match.group("cue"), rules):
            return code.upper()
    known = rules.known_code.search(text)
    return known.group() if known else None


def _is_company_code(code: str, cue: str, rules: CompanyRules) -> bool:
    upper = code.upper()
    if upper in rules.reserved or code.casefold() in rules.fillers_and_not_codes or code.isdigit():
        return False
    if upper in rules.known or code == upper:
        return True
    return cue.casefold() not in rules.weak_cues and len(code) <= rules.lowercase_max


# --- Affected users


def _affected_users(folded: str, rules: CountRules) -> int | None:
    """The largest head count the text gives ("all 35 users in AP"), if any."""
    matches = rules.pattern.finditer(folded)
    counts = (_count_value(match.group("count") or match.group("labelled"), rules) for match in matches)
    plausible = [count for count in counts if 1 <= count <= AFFECTED_USERS_MAX]
    return max(plausible, default=None)


def _count_value(token: str, rules: CountRules) -> int:
    return int(token.replace(",", "")) if token[0].isdigit() else rules.number_words[token]


# --- Loading the vocabulary ------------------------------------------------------------------------


def load_vocabulary(path: Path | None = None) -> Vocabulary:
    """The vocabulary in `path`, or the packaged default (read once) when `path` is None."""
    if path is None:
        return _default_vocabulary()
    return _read_vocabulary(Path(path))


@functools.lru_cache(maxsize=1)
def _default_vocabulary() -> Vocabulary:
    return _read_vocabulary(DEFAULT_VOCABULARY_PATH)


def _read_vocabulary(path: Path) -> Vocabulary:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise VocabularyError(f"{path}: cannot read the vocabulary file ({exc.strerror or exc})") from exc
    except UnicodeDecodeError as exc:
        raise VocabularyError(f"{path}: the vocabulary file is not UTF-8 text ({exc.reason})") from exc
    except tomllib.TOMLDecodeError as exc:
        raise VocabularyError(f"{path}: the vocabulary file is not valid TOML ({exc})") from exc
    root = _Table(data, "", path)
    negation = _read_negation(root.table("negation"))
    severity = _read_severity(root.table("severity"))
    category, category_acronyms = _read_classifier(root.table("category"), Category, "category")
    area, area_acronyms = _read_classifier(root.table("area"), Area, "area")
    vocabulary = Vocabulary(
        source=path,
        negation=negation,
        severity=severity,
        category=category,
        area=area,
        company=_read_company(root.table("company"), category_acronyms | area_acronyms),
        affected_users=_read_affected_users(root.table("affected_users")),
        title=_read_title(root.table("title"), severity),
    )
    root.done()
    return vocabulary


class _Table:
    """One table of the vocabulary file, read key by key so each error names the file and the key."""

    def __init__(self, data: Mapping[str, Any], name: str, source: Path) -> None:
        self._data = data
        self._name = name
        self._source = source
        self._unread = set(data)

    def error(self, problem: str) -> VocabularyError:
        where = f" [{self._name}]" if self._name else ""
        return VocabularyError(f"{self._source}:{where} {problem}")

    def keys(self) -> tuple[str, ...]:
        return tuple(self._data)

    def table(self, key: str) -> _Table:
        name = f"{self._name}.{key}" if self._name else key
        return _Table(self._take(key, dict, "a table"), name, self._source)

    def integer(self, key: str, low: int, high: int) -> int:
        value: int = self._take(key, int, "a whole number")
        if isinstance(value, bool) or not low <= value <= high:
            raise self.error(f"{key!r} must be a whole number from {low} to {high}, not {value!r}")
        return value

    def text(self, key: str) -> str:
        value: str = self._take(key, str, "a string")
        return value

    def strings(self, key: str) -> tuple[str, ...]:
        value = self._take(key, list, "a list of strings")
        if not all(isinstance(item, str) and item.strip() for item in value):
            raise self.error(f"{key!r} must be a list of non-empty strings")
        return tuple(value)

    def phrases(self, key: str) -> tuple[str, ...]:
        """The phrases of a list, normalised like message text and checked for syntax."""
        phrases = []
        for item in self.strings(key):
            phrase = " ".join(item.translate(_TYPOGRAPHIC).casefold().split())
            problem = _phrase_problem(phrase)
            if problem:
                raise self.error(f"{key!r}: {item!r} {problem}")
            phrases.append(phrase)
        return tuple(phrases)

    def done(self) -> None:
        """Refuse keys nobody read: they are typos ("[severity.phrase]") that would silently do nothing."""
        if self._unread:
            raise self.error(f"unknown key(s): {', '.join(sorted(self._unread))}")

    def _take(self, key: str, kind: type, description: str) -> Any:
        if key not in self._data:
            raise self.error(f"missing key {key!r}")
        self._unread.discard(key)
        value = self._data[key]
        if not isinstance(value, kind):
            raise self.error(f"{key!r} must be {description}")
        return value


def _choice(table: _Table, name: str, choices: Mapping[str, T], kind: str) -> T:
    if name not in choices:
        raise table.error(f"unknown {kind} {name!r} (expected one of: {', '.join(choices)})")
    return choices[name]


def _read_negation(table: _Table) -> NegationRules:
    words = table.phrases("words")
    suffixes = table.strings("suffixes")
    window = table.integer("window", 1, 10)
    table.done()
    negators = [_phrase_source(word) for word in words] + [rf"\S+{re.escape(suffix)}" for suffix in suffixes]
    return NegationRules(re.compile(rf"(?<!\S){_alternation(negators)}(?!\S)"), window)


def _read_severity(table: _Table) -> SeverityRules:
    levels = _read_levels(table.table("levels"))
    by_name = {f"sev{severity.value}": severity for severity in Severity}
    cues = [
        (phrase, (tier, severity))
        for tier, key in ((_TIER_WORD, "words"), (_TIER_PHRASE, "phrases"))
        for phrase, severity in _keyed_phrases(table.table(key), by_name, "severity")
    ]
    markers = (table.phrases("number_markers"), table.phrases("letter_markers"), table.phrases("level_markers"))
    severity = SeverityRules(
        explicit=re.compile(_explicit_marker_source(*markers, levels, named=True)),
        explicit_source=_explicit_marker_source(*markers, levels, named=False),
        levels=levels,
        cues=_phrase_matcher(cues, table),
    )
    table.done()
    return severity


def _read_levels(table: _Table) -> dict[str, Severity]:
    levels = {}
    for key in table.keys():
        if not key.isalpha():
            raise table.error(f"level {key!r} must be a single word of letters")
        levels[key.casefold()] = Severity(table.integer(key, min(Severity), max(Severity)))
    table.done()
    return levels


def _explicit_marker_source(
    number_markers: Sequence[str],
    letter_markers: Sequence[str],
    level_markers: Sequence[str],
    levels: Mapping[str, Severity],
    *,
    named: bool,
) -> str:
    """Explicit markers ("sev 2", "P1", "priority: high"); `named` puts the value in group `number` or `level`."""
    number = "[" + "".join(str(severity.value) for severity in Severity) + "]"
    level = _phrase_alternation(levels)
    if named:
        number, level = f"(?P<number>{number})", f"(?P<level>{level})"
    separator = r"[ :#=-]*"
    return (
        rf"(?<!\w)(?:(?:{_phrase_alternation(number_markers)}{separator}|{_phrase_alternation(letter_markers)}){number}"
        rf"|{_phrase_alternation(level_markers)}{separator}{level})(?!\w)"
    )


def _read_classifier(table: _Table, kinds: type[E], kind: str) -> tuple[Classifier[E], frozenset[str]]:
    """The classifier, and its acronyms (which are never company codes)."""
    choices = {member.value: member for member in kinds}
    order = tuple(_choice(table, name, choices, kind) for name in table.strings("order"))
    if len(order) != len(choices) or set(order) != set(choices.values()):
        raise table.error(f"'order' must list every {kind} exactly once: {', '.join(choices)}")
    keywords = _phrase_matcher(_keyed_phrases(table.table("keywords"), choices, kind), table)
    acronyms_table = table.table("acronyms")
    acronyms = [
        (name, _choice(acronyms_table, acronyms_table.text(name), choices, kind)) for name in acronyms_table.keys()
    ]
    if any(not name.isalnum() or len(name) < _STEM_INDEX for name, _ in acronyms):
        raise acronyms_table.error(f"acronyms must be at least {_STEM_INDEX} letters or digits")
    acronyms_table.done()
    table.done()
    classifier = Classifier(keywords, _phrase_matcher(acronyms, table, acronyms=True), order)
    return classifier, frozenset(name.upper() for name, _ in acronyms)


def _read_company(table: _Table, reserved: frozenset[str]) -> CompanyRules:
    cues, weak_cues, not_cues = table.phrases("cues"), table.phrases("weak_cues"), table.phrases("not_cues")
    fillers = table.phrases("fillers")
    lowercase_max = table.integer("lowercase_max", 2, COMPANY_MAX)
    not_codes = table.phrases("not_codes")
    known = table.strings("known")
    bad = [code for code in known if not (code.isalnum() and code.isupper() and 2 <= len(code) <= COMPANY_MAX)]
    if bad:
        raise table.error(f"'known' companies must be 2 to {COMPANY_MAX} capitals/digits: {', '.join(bad)}")
    table.done()
    separator = r"""[ :=#"'(\[-]+"""
    code = rf"(?-i:[A-Za-z0-9]{{2,{COMPANY_MAX}}})"
    cue = (
        rf"(?<!\w)(?:{_phrase_alternation(not_cues)}|(?P<cue>{_phrase_alternation([*cues, *weak_cues])})"
        rf"(?:{separator}{_phrase_alternation(fillers)}(?!\w)){{0,2}}{separator}(?P<code>{code}))(?![\w-])"
    )
    return CompanyRules(
        cue=re.compile(cue, re.IGNORECASE),
        weak_cues=frozenset(weak_cues),
        fillers_and_not_codes=frozenset([*fillers, *not_codes]),
        reserved=reserved,
        known=frozenset(known),
        known_code=re.compile(rf"(?<![\w-]){_alternation(re.escape(code) for code in known)}(?![\w-])"),
        lowercase_max=lowercase_max,
    )


def _read_affected_users(table: _Table) -> CountRules:
    nouns, qualifiers, cues = table.phrases("nouns"), table.phrases("qualifiers"), table.phrases("cues")
    words_table = table.table("number_words")
    number_words = {}
    for word in words_table.keys():
        if not word.isalpha():
            raise words_table.error(f"number word {word!r} must be a single word of letters")
        number_words[word.casefold()] = words_table.integer(word, 1, AFFECTED_USERS_MAX)
    words_table.done()
    table.done()
    number = rf"(?:\d{{1,3}}(?:,\d{{3}}){{1,2}}|\d{{1,6}}|{_phrase_alternation(number_words)})"
    counted = (
        rf"(?<![\w.,])(?P<count>{number})\+?(?: {_phrase_alternation(qualifiers)}){{0,3}} "
        rf"{_phrase_alternation(nouns)}(?!\w)"
    )
    labelled = rf"(?<!\w){_phrase_alternation(cues)}[ :=~-]*(?P<labelled>{number})\+?(?!\w)"
    return CountRules(re.compile(f"{counted}|{labelled}"), number_words)


def _read_title(table: _Table, severity: SeverityRules) -> TitleRules:
    """Prefixes: bracketed markers or words, bare markers before a space, bare words before punctuation."""
    words = rf"(?<!\w){_phrase_alternation(table.phrases('prefixes'))}(?!\w)"
    abbreviations = [abbreviation.casefold() for abbreviation in table.strings("abbreviations")]
    table.done()
    marker = severity.explicit_source
    punctuation = r" *[-–—:/|,!.]+ *"
    bracketed = rf"[\[(] *(?:{marker}|{words}) *[\])]"
    prefix = rf"(?:{bracketed}(?:{punctuation}| *)|{marker}(?:{punctuation}| +|$)|{words}(?:{punctuation}|$))+"
    return TitleRules(
        prefix=re.compile(prefix, re.IGNORECASE),
        abbreviation=re.compile(rf"(?<!\w){_alternation(map(re.escape, abbreviations))}\Z", re.IGNORECASE),
        abbreviation_reach=max(map(len, abbreviations), default=0) + 1,
    )


# --- Phrase syntax

# One word inside a "..." gap: it may hold inner dots or commas (10.0.38, 1,200) but never ends a
# sentence, so "nobody knows. Can you help" is not "nobody ... can". Disjoint from the space between
# words, so a gap cannot backtrack badly.
_GAP_WORD = r"[^ .!?;:,()]+(?:[.,][^ .!?;:,()]+)*"


def _phrase_problem(phrase: str) -> str | None:
    words = phrase.split()
    if not _WORD.match(phrase):
        return "must start with a letter or digit"
    if words[-1] == "...":
        return "cannot end with '...'"
    if any(first == second == "..." for first, second in pairwise(words)):
        return "has '...' twice in a row"
    if any("*" in word.rstrip("*") or word.endswith("**") for word in words):
        return "may use '*' only once, at the end of a word"
    if any(word.endswith("*") and len(word) <= _STEM_INDEX for word in words):
        return f"needs at least {_STEM_INDEX} characters before a '*'"
    return None


def _phrase_source(phrase: str) -> str:
    """Regex for a checked, normalised phrase: apostrophes optional, "..." a gap, "word*" a prefix."""
    words = phrase.split()
    source = _word_source(words[0])
    for word in words[1:]:
        source += rf"(?: {_GAP_WORD}){{0,{GAP_MAX_WORDS}}}" if word == "..." else " " + _word_source(word)
    return source


def _word_source(word: str) -> str:
    source = re.escape(word.removesuffix("*")).replace("'", "'?")
    return source + r"\w*" if word.endswith("*") else source


def _acronym_source(acronym: str) -> str:
    return re.escape(acronym) + "s?"  # "POs", "BOMs"


def _alternation(sources: Iterable[str]) -> str:
    """`(?:a|b)`; with nothing to match, a group that never matches (an empty one would match everywhere)."""
    alternatives = list(sources)
    return f"(?:{'|'.join(alternatives)})" if alternatives else "(?!)"


def _phrase_alternation(phrases: Iterable[str]) -> str:
    """Alternation of phrases, longest first, so "sales tax" is tried before "sales"."""
    return _alternation([_phrase_source(phrase) for phrase in sorted(phrases, key=len, reverse=True)])


def _keyed_phrases(table: _Table, choices: Mapping[str, T], kind: str) -> list[tuple[str, T]]:
    """The phrases of a table keyed by value name ("sev1 = [...]", "how_to = [...]")."""
    entries: list[tuple[str, T]] = []
    for key in table.keys():
        value = _choice(table, key, choices, kind)
        entries.extend((phrase, value) for phrase in table.phrases(key))
    table.done()
    return entries


def _phrase_matcher(entries: Sequence[tuple[str, T]], table: _Table, *, acronyms: bool = False) -> Phrases[T]:
    """Compile and index phrases (or case-sensitive acronyms) by their first word."""
    seen: set[str] = set()
    for phrase, _ in entries:
        if phrase in seen:
            raise table.error(f"{phrase!r} is listed more than once")
        seen.add(phrase)
    exact: dict[str, list[PhraseEntry[T]]] = {}
    open_ended: dict[str, list[PhraseEntry[T]]] = {}
    ordered = sorted(entries, key=lambda entry: len(entry[0]), reverse=True)
    for rank, (phrase, value) in enumerate(ordered):
        source = _acronym_source(phrase) if acronyms else _phrase_source(phrase)
        entry = PhraseEntry(rank, re.compile(source + r"(?!\w)"), value, _weight(phrase))
        lead = _WORD.match(phrase)
        word = lead.group() if lead else phrase
        # A first word that may continue ("vendor*" in "vendors", "PO" in "POs") is found by its stem.
        index = open_ended if acronyms or phrase.startswith("*", len(word)) else exact
        index.setdefault(word.replace("'", ""), []).append(entry)
    stems: dict[str, list[tuple[str, tuple[PhraseEntry[T], ...]]]] = {}
    for stem, found in open_ended.items():
        stems.setdefault(stem[:_STEM_INDEX], []).append((stem, tuple(found)))
    return Phrases(
        exact={word: tuple(found) for word, found in exact.items()},
        open_ended={prefix: tuple(pairs) for prefix, pairs in stems.items()},
    )


def _weight(phrase: str) -> int:
    return sum(1 for word in phrase.split() if word != "...")
