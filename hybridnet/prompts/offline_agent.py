"""The default HIS agent: key subjects and public prompts without a language model.

The paper's Llama agent reads each prompt's key subject and writes, per
group, a public prompt from what the group's prompts have in common. Offline
the subject comes from :mod:`hybridnet.prompts.keyphrases`, and the public
prompt is composed from the group's most common subject(s), the modifiers
most members share ("fluffy", "black") and the phrases carrying the words
most members mention ("on a windowsill", "golden hour"). Several drafts that
keep more or fewer of those shared features are embedded, and the draft
closest on average to the members (the mean of eq. 10 over the group) is
kept: the embedding model plays the critic an LLM would be for its own draft.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

import numpy as np

from hybridnet.prompts.embeddings import cosine_matrix, embed
from hybridnet.prompts.keyphrases import STOPWORDS, ParsedPrompt, lemma, parse_prompt

MAX_SUBJECTS = 3
"""Subjects a public prompt may name ("a cat, a dog or a fox")."""

MAX_MODIFIERS = 2
MAX_PHRASES = 4

_VERB_ENDINGS = ("ing", "ed")


def _shared(counts: Counter[str], min_count: int) -> list[str]:
    """Items held by at least ``min_count`` members, most shared first (ties: first seen)."""
    return [item for item, c in counts.most_common() if c >= min_count]


def _phrase_words(phrase: str) -> set[str]:
    return {lemma(w) for w in phrase.split() if w.lower() not in STOPWORDS}


def _shared_phrases(parsed: Sequence[ParsedPrompt], skip: set[str], min_count: int) -> list[str]:
    """Phrases that carry the words most members mention, each word realised once.

    A word is realised by the shortest member phrase containing it, which
    keeps the public prompt from inheriting one member's long description.
    """
    word_counts: Counter[str] = Counter()
    for p in parsed:
        word_counts.update({w for phrase in p.phrases for w in _phrase_words(phrase)} - skip)
    realisations: dict[str, str] = {}
    for p in parsed:
        for phrase in p.phrases:
            for w in _phrase_words(phrase):
                best = realisations.get(w)
                if best is None or (len(phrase.split()), phrase) < (len(best.split()), best):
                    realisations[w] = phrase
    chosen: list[str] = []
    covered: set[str] = set()
    for word in _shared(word_counts, min_count):
        if word in covered:
            continue
        phrase = realisations[word]
        chosen.append(phrase)
        covered |= _phrase_words(phrase)
        if len(chosen) == MAX_PHRASES:
            break
    return chosen


def _article(word: str) -> str:
    return "an" if word[:1].lower() in "aeiou" else "a"


def compose(subjects: Sequence[str], modifiers: Sequence[str], phrases: Sequence[str]) -> str:
    """A fluent prompt: "A fluffy cat sitting on a windowsill, golden hour".

    Phrases that open with a preposition or a verb attach to the subject
    without a comma, as they would in a written sentence; tags follow commas.
    """
    first = " ".join([*modifiers, subjects[0]])
    nouns = [f"{_article(first)} {first}"] + [f"{_article(s)} {s}" for s in subjects[1:]]
    head = nouns[0] if len(nouns) == 1 else ", ".join(nouns[:-1]) + " or " + nouns[-1]
    text = head
    for i, phrase in enumerate(phrases):
        opener = phrase.split()[0].lower()
        attaches = opener.endswith(_VERB_ENDINGS) or opener in {
            "in", "on", "at", "with", "by", "under", "over", "through", "across", "along",
            "among", "beside", "near", "inside", "above", "below", "behind", "into", "from",
        }
        text += (" " if i == 0 and attaches else ", ") + phrase
    return text[0].upper() + text[1:]


def _drafts(members: Sequence[str], member_subjects: Sequence[str]) -> list[str]:
    """Every combination of the top subjects, shared modifiers and shared phrases."""
    parsed = [parse_prompt(t) for t in members]
    min_count = 2
    subjects = [s for s, _ in Counter(member_subjects).most_common(MAX_SUBJECTS)]
    spelled: dict[str, Counter[str]] = {}
    modifier_counts: Counter[str] = Counter()
    for p in parsed:
        keys = {m.lower() for m in p.modifiers} - set(subjects)
        modifier_counts.update(keys)
        for m in p.modifiers:
            spelled.setdefault(m.lower(), Counter())[m] += 1
    modifiers = [
        spelled[m].most_common(1)[0][0] for m in _shared(modifier_counts, min_count)
    ][:MAX_MODIFIERS]
    skip = set(subjects) | {lemma(m) for m in modifiers}
    phrases = _shared_phrases(parsed, skip, min_count)
    drafts = []
    for n_subjects in range(1, len(subjects) + 1):
        for n_mod in range(len(modifiers) + 1):
            for n_phrase in range(len(phrases) + 1):
                drafts.append(
                    compose(subjects[:n_subjects], modifiers[:n_mod], phrases[:n_phrase])
                )
    return list(dict.fromkeys(drafts))


class OfflineAgent:
    """Key subjects by rules, public prompts composed from shared features (no network)."""

    name = "offline"

    def subjects(self, texts: Sequence[str]) -> list[str]:
        """Each prompt's key subject, as a lemma ("cat" for "Two kittens ..." is "kitten")."""
        return [parse_prompt(t).subject for t in texts]

    def public_prompt(self, members: Sequence[str], subjects: Sequence[str]) -> str:
        """Given the members' prompts and key subjects, the draft with the highest mean eq. (10) similarity to the group's members.

        A group of one prompt (or of copies of one prompt) has every feature
        in common, so its public prompt is that prompt.
        """
        if len(set(members)) == 1:
            return members[0]
        drafts = _drafts(members, subjects)
        scores = cosine_matrix(embed(drafts), embed(members)).mean(axis=1)
        return drafts[int(np.argmax(scores))]
