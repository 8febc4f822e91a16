"""The parts of an explanation that need no model: words, pieces, occluded copies, the plan.

`analyzer.explain` scores what is planned here and hands the scores back; how the pieces, copies
and coarse-to-fine groups are chosen is described there.
"""

import math
import re
import unicodedata
from dataclasses import dataclass, field

from analyzer.highlights import Explanation, ScoredSentence, Span
from analyzer.sentences import sentences_split

WORD = re.compile(r"\S+")
# The longest piece scored alone: a sentence of more words is cut into even runs of words.
PIECE_WORDS = 40


def is_punctuation(character: str) -> bool:
    return unicodedata.category(character).startswith("P")


def word_spans(text: str) -> list[tuple[int, int]]:
    """Return the (start, end) offsets of the words, without the punctuation around them.

    A word is a run of non-space characters (so "f*ck", "don't" and an emoji stay whole);
    runs of punctuation alone are left out.
    """
    spans = []
    for match in WORD.finditer(text):
        start, end = match.span()
        while start < end and is_punctuation(text[start]):
            start += 1
        while end > start and is_punctuation(text[end - 1]):
            end -= 1
        if start < end:
            spans.append((start, end))
    return spans


def grouped_spans(spans: list[tuple[int, int]], *, limit: int) -> list[tuple[int, int]]:
    """Join neighbouring words into at most `limit` groups, so a long text costs no more."""
    if len(spans) <= limit:
        return spans
    size = math.ceil(len(spans) / limit)
    return [
        (spans[first][0], spans[min(first + size, len(spans)) - 1][1])
        for first in range(0, len(spans), size)
    ]


def occluded(text: str, start: int, end: int) -> str:
    """Return text without text[start:end] and one space beside it."""
    if end < len(text) and text[end].isspace():
        end += 1
    elif start > 0 and text[start - 1].isspace():
        start -= 1
    return text[:start] + text[end:]


def pieces_split(text: str) -> list[tuple[int, int]]:
    """Return the (start, end) offsets of the text's sentences, long ones cut into word runs."""
    pieces = []
    for sentence in sentences_split(text=text):
        words = word_spans(sentence.text)
        if len(words) <= PIECE_WORDS:
            pieces.append((sentence.start, sentence.end))
            continue
        runs = math.ceil(len(words) / PIECE_WORDS)
        size = math.ceil(len(words) / runs)
        for first in range(0, len(words), size):
            last = min(first + size, len(words)) - 1
            pieces.append((sentence.start + words[first][0], sentence.start + words[last][1]))
    return pieces


# Groups of words refined word by word in a text's sentences occluded coarse to fine: the best
# one, and the next one too when it raised the score at least half as much.
REFINED_GROUPS = 2


@dataclass
class Occlusion:
    """Copies of one piece, each without one span (a word or a group) of it."""

    label: str
    text: str
    base: float
    # Offsets in the piece's text.
    spans: list[tuple[int, int]]
    coarse: bool = False
    scores: list[float] = field(default_factory=list)
    # Group index -> that group's words, each occluded alone.
    refined: dict[int, "Occlusion"] = field(default_factory=dict)

    @property
    def copies(self) -> list[str]:
        return [occluded(self.text, start, end) for start, end in self.spans]

    @property
    def contributions(self) -> list[float]:
        return [round(self.base - score, 6) for score in self.scores]

    def refine(self, index: int) -> "Occlusion | None":
        """Return a word-by-word occlusion of group `index`, kept for parts(); None for a word."""
        group_start, group_end = self.spans[index]
        inside = [(s, e) for s, e in word_spans(self.text) if group_start <= s and e <= group_end]
        if len(inside) < 2:
            return None
        self.refined[index] = Occlusion(
            label=self.label, text=self.text, base=self.base, spans=inside
        )
        return self.refined[index]

    def parts(self) -> list[tuple[int, int, float]]:
        """Return (start, end, contribution) of each word or group, refined groups as words."""
        parts = []
        for index, ((start, end), contribution) in enumerate(
            zip(self.spans, self.contributions, strict=True)
        ):
            refinement = self.refined.get(index)
            if refinement is None:
                parts.append((start, end, contribution))
            else:
                parts.extend(refinement.parts())
        return parts

    @property
    def inputs(self) -> int:
        return len(self.spans) + sum(len(refined.spans) for refined in self.refined.values())


@dataclass
class OcclusionPlan:
    """One text's explanation as it is worked out."""

    # The analysed text and its top label.
    text: str
    label: str
    pieces: list[tuple[int, int]]
    # The top label's score of each piece.
    scores: list[float] = field(default_factory=list)
    # (start of the piece in the text, its occlusion) for each explained piece.
    occlusions: list[tuple[int, Occlusion]] = field(default_factory=list)

    def occlusions_plan(self, *, sentences: int, copies: int, fine_words: int) -> None:
        """Occlude the highest-scoring pieces: word by word when short, by groups when long.

        At most `sentences` pieces and `copies` copies in all; a piece of more than `fine_words`
        words is occluded by groups (the limits of `analyzer.explain.Budget`).
        """
        ranked = sorted(range(len(self.pieces)), key=lambda index: -self.scores[index])
        # A piece that scores less than half the best one does not carry the label.
        best = self.scores[ranked[0]] if ranked else 0.0
        chosen = sorted(index for index in ranked[:sentences] if self.scores[index] >= best / 2)
        per_piece = max(1, copies // max(1, len(chosen)))
        for index in chosen:
            start, end = self.pieces[index]
            text = self.text[start:end]
            words = word_spans(text)
            coarse = len(words) > fine_words
            limit = min(per_piece, math.ceil(math.sqrt(len(words)))) if coarse else per_piece
            occlusion = Occlusion(
                label=self.label,
                text=text,
                base=self.scores[index],
                spans=grouped_spans(words, limit=limit),
                coarse=coarse,
            )
            self.occlusions.append((start, occlusion))

    def refinements(self) -> list[Occlusion]:
        """Return word-by-word occlusions of the groups that raised the score most in this text.

        The best group always; the next best too when it raised the score at least half as much.
        """
        groups = [
            (contribution, occlusion, index)
            for _start, occlusion in self.occlusions
            if occlusion.coarse
            for index, contribution in enumerate(occlusion.contributions)
        ]
        groups.sort(key=lambda group: group[0], reverse=True)
        if not groups:
            return []
        best = groups[0][0]
        chosen = [groups[0]] + [
            group for group in groups[1:REFINED_GROUPS] if best > 0 and group[0] >= best / 2
        ]
        refinements = [occlusion.refine(index) for _contribution, occlusion, index in chosen]
        return [refinement for refinement in refinements if refinement is not None]

    def explanation(self) -> Explanation:
        text = self.text
        spans = [
            Span(
                start + part_start,
                start + part_end,
                text[start + part_start : start + part_end],
                contribution,
            )
            for start, occlusion in self.occlusions
            for part_start, part_end, contribution in occlusion.parts()
        ]
        explained = {start for start, _occlusion in self.occlusions}
        return Explanation(
            label=self.label,
            spans=spans,
            pieces=[
                ScoredSentence(
                    start=start,
                    end=end,
                    text=text[start:end],
                    score=score,
                    explained=start in explained,
                )
                for (start, end), score in zip(self.pieces, self.scores, strict=True)
            ],
            model_inputs=(len(self.pieces) if len(self.pieces) > 1 else 0)
            + sum(occlusion.inputs for _start, occlusion in self.occlusions),
            coarse=any(occlusion.coarse for _start, occlusion in self.occlusions),
        )
