"""Key subject and key phrases of a text-to-image prompt, without a language model.

The paper's agent asks an LLM for each prompt's key subject. Offline we read
it off the prompt's shape instead: image prompts are nearly always a noun
phrase naming the subject ("a fluffy white cat"), optionally behind a frame
("watercolor painting of ...", "a bowl of ..."), followed by prepositional
and verb phrases and comma-separated style tags. A few word lists and rules
find the head noun of that first phrase and cut the rest into phrases; the
grouping and public-prompt writer then only need words shared across
prompts, so an occasional wrong head costs little.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

STOPWORDS = frozenset(
    """
    a an the this that these those and or but nor so yet of to in on at by for with from
    into onto over under above below behind beside besides between among amid across
    along around through throughout toward towards within without upon near past outside
    inside against during after before beyond off out up down away together back
    is are was were be been being am has have had do does did will would can could
    should may might must shall it its it's he his him she her hers they them their theirs
    we our us you your i my me mine who whom whose which what where when while as than
    then there here very just also too only even more most much many some any each every
    all both either neither no not such own same other another few several next
    one two three four five six seven eight nine ten
    """.split()
)
"""Function words: never a subject, never a shared feature."""

_PREPOSITIONS = frozenset(
    """
    in on at by with from into onto over under above below behind beside between among amid
    across along around through throughout toward towards within without upon near past
    outside inside against during after before beyond beneath underneath atop like via
    to for while where as amidst alongside next full asleep awake alone
    """.split()
)
"""Words that start a new phrase ("of" is missing on purpose: it binds a noun phrase).

The last four are adjectives that follow their noun ("a cat asleep in ..."),
which end a noun phrase just like a preposition does.
"""

_DETERMINERS = frozenset(
    "a an the this that these those its his her their our your my some".split()
)
_PARTICLES = frozenset("up down out off away together back about".split())
_PROGRESSIVE = {
    "sits": "sitting", "stands": "standing", "lies": "lying", "runs": "running",
    "walks": "walking", "plays": "playing", "looks": "looking", "flies": "flying",
    "sleeps": "sleeping", "rests": "resting", "waits": "waiting", "holds": "holding",
    "stares": "staring", "dashes": "dashing", "sniffs": "sniffing", "swims": "swimming",
    "drinks": "drinking", "eats": "eating", "jumps": "jumping", "climbs": "climbing",
    "watches": "watching", "hunts": "hunting", "reads": "reading", "dances": "dancing",
    "sings": "singing", "rides": "riding", "floats": "floating", "soars": "soaring",
    "hangs": "hanging", "gazes": "gazing", "glows": "glowing", "shines": "shining",
}
"""Finite verbs rewritten as participles, so a phrase reads well after any subject."""

_VERBS = frozenset("is are was were be being sit stand lie run walk play look fly".split()) | set(
    _PROGRESSIVE
)
_ED_NOUNS = frozenset("sled shed bred hundred naked sacred".split())
"""Words ending in -ed that are never participles."""

_PARTICIPLES = frozenset("seen shown drawn made built hidden taken lit set held".split())
_ING_NOUNS = frozenset(
    """
    painting lighting building evening morning king ring wing spring string ceiling clothing
    wedding pudding icing frosting dumpling viking thing something everything nothing drawing
    rendering landing swing parking bedding setting
    """.split()
)
"""Nouns ending in -ing: a verb only when an object or a preposition follows ("painting a")."""

_ING_ADJECTIVES = frozenset(
    """
    floating flying glowing burning towering winding rolling sleeping steaming shining
    sailing racing fishing rowing living dining sparkling smiling
    """.split()
)
"""Words ending in -ing that usually stand before a noun ("a floating city")."""

_NOT_ADVERBS = frozenset(
    "butterfly dragonfly firefly family assembly anomaly melancholy monopoly supply".split()
)
_STYLE_FRAMES = frozenset(
    """
    portrait photo photograph photography picture image painting illustration drawing sketch
    render rendering print art artwork view shot close-up closeup still scene poster diagram
    blueprint sprite watercolor watercolour lay headshot interior ruin cutaway depiction
    study silhouette
    """.split()
)
"""Frames that say how the subject is shown: "watercolor painting of X" (kept as a phrase)."""

_QUANTITY_FRAMES = frozenset(
    """
    bowl plate slice cup mug glass stack pile basket jar flock herd pack pair team group crowd
    fleet swarm school family couple bunch bouquet row collection series
    """.split()
)
"""Frames that only count or hold the subject: "a bowl of X", "a flock of X" (dropped)."""

_FRAMES = _STYLE_FRAMES | _QUANTITY_FRAMES

_COLLECTIVES = frozenset("fleet team herd flock pack group crowd swarm family pair".split())
"""Collective heads that name their members before them: "starship fleet", "sled dog team"."""

_IRREGULAR = {
    "mice": "mouse", "geese": "goose", "people": "person", "children": "child", "men": "man",
    "women": "woman", "teeth": "tooth", "feet": "foot", "wolves": "wolf", "leaves": "leaf",
    "knives": "knife", "shelves": "shelf", "loaves": "loaf", "calves": "calf",
    "halves": "half", "elves": "elf", "thieves": "thief", "lives": "life", "wives": "wife",
    "scarves": "scarf", "hooves": "hoof", "cacti": "cactus", "fungi": "fungus",
}
_CLAUSE_SPLIT = re.compile(r"[,;:!?()\[\]{}|\"]+|\.(?=\s|$)|\s[-\u2013\u2014]+\s")
_STRIP = "'\"\u2018\u2019\u201c\u201d*.#"


@lru_cache(maxsize=65536)
def lemma(word: str) -> str:
    """Lower-case singular of an English word; plural rules cover prompt vocabulary."""
    w = word.lower().strip(_STRIP)
    if w.endswith(("'s", "\u2019s")):
        w = w[:-2]
    if w in _IRREGULAR:
        return _IRREGULAR[w]
    if len(w) <= 3 or any(ch.isdigit() for ch in w):
        return w
    if w.endswith("ies"):
        return w[:-3] + "y"
    if w.endswith(("xes", "ches", "shes", "sses", "zzes")):
        return w[:-2]
    if w.endswith("s") and not w.endswith(("ss", "us", "is", "ous")):
        return w[:-1]
    return w


@lru_cache(maxsize=65536)
def _norm(token: str) -> str:
    return token.lower().strip(_STRIP)


def _is_adverb(word: str) -> bool:
    return len(word) >= 6 and word.endswith("ly") and word not in _NOT_ADVERBS


def _is_content(word: str) -> bool:
    return bool(word) and word not in STOPWORDS and any(ch.isalpha() for ch in word)


@lru_cache(maxsize=65536)
def _is_noun_candidate(word: str) -> bool:
    return _is_content(word) and not _is_adverb(word) and not any(ch.isdigit() for ch in word)


def content_words(text: str) -> list[str]:
    """Lemmas of the words that carry meaning, in order (style tags such as 8k included)."""
    out = []
    for token in text.split():
        word = _norm(token)
        if _is_content(word) or (word and word[0].isdigit()):
            out.append(lemma(word))
    return out


def _is_breaker(word: str | None) -> bool:
    """A word after which a participle reads as a verb: "perched on", "lit up", end of clause."""
    return (
        word is None
        or word in _PREPOSITIONS
        or word in _DETERMINERS
        or word in _PARTICLES
        or _is_adverb(word)
    )


def _starts_verb_phrase(word: str, next_word: str | None) -> bool:
    if "-" in word:
        return False
    if word in _VERBS:
        return True
    if word in _ING_NOUNS:
        return next_word is not None and _is_breaker(next_word)
    if word.endswith("ing") and len(word) > 4:
        return word not in _ING_ADJECTIVES or _is_breaker(next_word)
    if (word.endswith("ed") and len(word) > 3 and not word.endswith("eed")
            and word not in _ED_NOUNS) or word in _PARTICIPLES:
        return _is_breaker(next_word)
    return False


def _names_something(tokens: list[str]) -> bool:
    """Whether the words since the last "of" already hold a noun-like word."""
    words = [_norm(t) for t in tokens]
    if "of" in words:
        words = words[len(words) - words[::-1].index("of") :]
    return any(_is_noun_candidate(w) for w in words)


def _chunks(clause: str) -> list[list[str]]:
    """Cut a clause into phrases at prepositions and verbs; a bare verb keeps its first PP."""
    tokens = clause.split()
    raw: list[tuple[str, list[str]]] = []  # (what opened the chunk, tokens)
    for i, token in enumerate(tokens):
        word = _norm(token)
        next_word = _norm(tokens[i + 1]) if i + 1 < len(tokens) else None
        opens_phrase = word in _PREPOSITIONS and not (
            raw and all(_norm(t) in _PREPOSITIONS for t in raw[-1][1])
        )  # "next to", "out of", "in front of" stay one opening
        if raw and opens_phrase:
            raw.append(("prep", [token]))
        elif raw and _names_something(raw[-1][1]) and _starts_verb_phrase(word, next_word):
            raw.append(("verb", [token]))
        elif not raw:
            raw.append(("prep" if word in _PREPOSITIONS else "np", [token]))
        else:
            raw[-1][1].append(token)
    merged: list[list[str]] = []
    absorbing = False
    for kind, chunk in raw:
        if absorbing and kind == "prep":
            merged[-1].extend(chunk)
            absorbing = False
            continue
        merged.append(list(chunk))
        absorbing = kind == "verb"
    return merged


def _split_of(tokens: list[str]) -> tuple[list[str], list[str]]:
    for i, token in enumerate(tokens):
        if _norm(token) == "of":
            return tokens[:i], tokens[i + 1 :]
    return tokens, []


def _head(tokens: list[str]) -> int | None:
    """Index of the head noun: a possessor ("horse's eye") or the last noun-like word."""
    candidates = [i for i, t in enumerate(tokens) if _is_noun_candidate(_norm(t))]
    for i in candidates:
        if _norm(tokens[i]).endswith(("'s", "\u2019s")):
            return i
    if not candidates:
        return None
    head = candidates[-1]
    if lemma(tokens[head]) in _COLLECTIVES and len(candidates) > 1:
        return candidates[-2]
    return head


def _subject_np(tokens: list[str]) -> tuple[list[str], list[str], list[str]]:
    """Split a chunk into the frame, the noun phrase naming the subject, and its "of" tail.

    "Watercolor painting of a calico cat" gives (["Watercolor", "painting"],
    ["a", "calico", "cat"], []); "Dramatic cliffs of the Dolomites" gives
    ([], ["Dramatic", "cliffs"], ["of", "the", "Dolomites"]).
    """
    frame: list[str] = []
    while True:
        left, right = _split_of(tokens)
        head = _head(left)
        if right and head is not None and lemma(left[head]) in _FRAMES:
            frame.extend(left)
            tokens = right
            continue
        if head is None:
            return frame, tokens, []
        return frame, left, tokens[len(left) :]


@dataclass(frozen=True)
class ParsedPrompt:
    """What the offline agent reads from one prompt.

    ``subject`` is the lemma of the head noun ("cat"); ``modifiers`` the words
    before it in its noun phrase, as written ("fluffy", "white"); ``phrases``
    every other phrase of the prompt in order ("sitting on a windowsill",
    "golden hour", "watercolor painting").
    """

    subject: str
    modifiers: tuple[str, ...]
    phrases: tuple[str, ...]


def _clean(tokens: list[str]) -> str:
    """A phrase as it can stand in another prompt: no dangling "and", "sits" made "sitting"."""
    words = [t.strip(_STRIP) if i == len(tokens) - 1 else t for i, t in enumerate(tokens)]
    while words and _norm(words[-1]) in STOPWORDS:
        words.pop()
    while words and _norm(words[0]) in {"and", "or", "is", "are"}:
        words.pop(0)
    if words and _norm(words[0]) in _PROGRESSIVE:
        words[0] = _PROGRESSIVE[_norm(words[0])]
    return " ".join(w for w in words if w)


def _is_lone_verb(tokens: list[str]) -> bool:
    words = [_norm(t) for t in tokens if _is_content(_norm(t))]
    return len(words) == 1 and _starts_verb_phrase(words[0], None)


@lru_cache(maxsize=65536)
def parse_prompt(text: str) -> ParsedPrompt:
    """Key subject, its modifiers and the remaining phrases of one prompt.

    The subject is taken from the first phrase that names something (not one
    opening with a preposition, as in "In a misty forest, a deer ..."), falling
    back to any phrase with a noun-like word, then to the whole text. The
    prompt's first word loses its capital, which is there for the position,
    not the word; a lone verb left between commas ("..., sitting, ...") says
    too little to be a phrase of its own.
    """
    words = text.strip().split(maxsplit=1)
    if words and not words[0].isupper():
        text = " ".join([words[0][0].lower() + words[0][1:], *words[1:]])
    chunks = [c for clause in _CLAUSE_SPLIT.split(text) for c in _chunks(clause.strip())]
    chunks = [c for c in chunks if c]
    named = [i for i, c in enumerate(chunks) if _head(_subject_np(c)[1]) is not None]
    if not named:
        return ParsedPrompt(text.strip().lower(), (), ())
    subject_at = next((i for i in named if _norm(chunks[i][0]) not in _PREPOSITIONS), named[0])
    frame, np_tokens, tail = _subject_np(chunks[subject_at])
    frame_head = _head(frame)
    if frame_head is None or lemma(frame[frame_head]) not in _STYLE_FRAMES:
        frame = []
    head = _head(np_tokens)
    modifiers = tuple(
        t.strip(_STRIP) for t in np_tokens[:head]
        if _is_noun_candidate(_norm(t)) and not _norm(t).endswith(("'s", "\u2019s"))
    )
    phrases = []
    for i, chunk in enumerate(chunks):
        if i == subject_at:
            phrases += [_clean(_drop_determiners(frame)), _clean(np_tokens[head + 1 :] + tail)]
        elif not _is_lone_verb(chunk):
            phrases.append(_clean(chunk))
    return ParsedPrompt(
        subject=lemma(np_tokens[head]),
        modifiers=modifiers,
        phrases=tuple(p for p in phrases if any(_is_content(_norm(w)) for w in p.split())),
    )


def _drop_determiners(tokens: list[str]) -> list[str]:
    while tokens and _norm(tokens[0]) in _DETERMINERS:
        tokens = tokens[1:]
    return tokens
