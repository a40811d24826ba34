"""The statistical half of classification: a linear model over word 1-2 grams, character 3-5
grams inside words, and event cue features. Pure inference.

Trained by `watcher.classify.train` (scikit-learn's TfidfVectorizer and LogisticRegression) and
exported as plain JSON: two vocabularies with their idf weights, the cue feature names, one
coefficient row per label, a temperature fitted by grouped cross-validation so that a stated
probability is right about as often as it says, and per-category thresholds. Inference here
re-implements the vectorisers (tokenising, sublinear tf, idf, l2 norm) in a few lines, so the
daemon needs neither scikit-learn nor pickle (a pickle is code, and tied to library versions).
"""

from __future__ import annotations

import json
import math
import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from urllib.parse import urlsplit

from watcher.classify.events import EVENT_LABELS, FEATURE_NAMES, Event, events, features
from watcher.classify.pagetype import page_type
from watcher.classify.wording import wording_scores
from watcher.errors import ConfigError

SHIPPED = Path(__file__).with_name("model.json")
TOKEN = re.compile(r"(?u)\b\w\w+\b")  # scikit-learn's default token_pattern
FORMAT = 2
CHARS = (3, 5)
LEAD_CHARS = 300
PAGE_TYPES = tuple(
    f"page:{label}:{strength}" for label in EVENT_LABELS for strength in ("high", "low")
)
WORDING = tuple(f"wording:{label}" for label in EVENT_LABELS)
CUE_NAMES = FEATURE_NAMES + PAGE_TYPES + WORDING


@dataclass(frozen=True)
class Page:
    """What a model reads: the title (it names the kind of page), a description, the text."""

    text: str
    title: str = ""
    description: str = ""
    url: str = ""  # not read by the model: it says which site a training example came from

    @property
    def words(self) -> str:
        """Title twice and the lead twice: a page names what it announces first."""
        lead = self.text[:LEAD_CHARS]
        return f"{self.title} . {self.title} . {self.description} . {lead} . {self.text}"


def document(text: str, title: str = "", description: str = "", url: str = "") -> Page:
    return Page(text, title, description, url)


SHARED_HOSTS = frozenset({"gov.uk", "gov.scot", "gov.wales"})


def site(page: Page) -> str:
    """The group a page belongs to when scoring: its site, or on a shared government host (where
    every department publishes) the page itself, by title."""
    host = (urlsplit(page.url).hostname or "").lower().removeprefix("www.")
    if not host or host in SHARED_HOSTS:
        return "page:" + " ".join(page.title.lower().split())
    return host


def terms(doc: str, ngrams: int = 2) -> Counter[str]:
    """scikit-learn's word analyser: lowercase, tokens of 2+ word characters, 1..n grams."""
    words = TOKEN.findall(doc.lower())
    counts: Counter[str] = Counter(words)
    for n in range(2, ngrams + 1):
        counts.update(" ".join(words[i : i + n]) for i in range(len(words) - n + 1))
    return counts


def char_terms(doc: str, low: int = CHARS[0], high: int = CHARS[1]) -> Counter[str]:
    """scikit-learn's char_wb analyser: n-grams inside each space-padded, lowercased word."""
    counts: Counter[str] = Counter()
    for word in doc.lower().split():
        w = f" {word} "
        size = len(w)
        for n in range(low, high + 1):
            if size <= n:
                counts[w] += 1  # a short word counts once, whole
                break
            counts.update(w[i : i + n] for i in range(size - n + 1))
    return counts


def cues(page: Page, found: Sequence[Event] | None = None) -> dict[str, float]:
    """The event and page-type features of a page, by name (absent means 0); `found`: the
    page's events, when already found."""
    out = features(events(page.text, page.title) if found is None else found)
    kind = page_type(page.title, page.description, page.text)
    if kind is not None:
        out[f"page:{kind[0]}:{kind[1]}"] = 1.0
    # The rules-only classifier's scores (GOV.UK wording), squashed into 0..1.
    scores, _ = wording_scores(page.text, page.title, page.url, page.description, kind=kind)
    out.update({f"wording:{k}": round(v / (v + 1.5), 4) for k, v in scores.items()})
    return out


def _tfidf(
    counts: Counter[str], vocab: Mapping[str, int], idf: tuple[float, ...]
) -> dict[int, float]:
    weights: dict[int, float] = {}
    for term, count in counts.items():
        index = vocab.get(term)
        if index is not None:
            weights[index] = (1.0 + math.log(count)) * idf[index]
    norm = math.sqrt(sum(w * w for w in weights.values())) or 1.0
    return {i: w / norm for i, w in weights.items()}


@dataclass(frozen=True)
class LinearModel:
    labels: tuple[str, ...]
    vocab: dict[str, int]
    idf: tuple[float, ...]
    coef: tuple[tuple[float, ...], ...]  # per label: word terms, then char terms, then cues
    intercept: tuple[float, ...]
    ngrams: int
    trained_on: str
    chars: dict[str, int] = field(default_factory=dict)
    char_idf: tuple[float, ...] = ()
    cue_names: tuple[str, ...] = ()
    cue_scale: float = 1.0
    temperature: float = 1.0  # logits are divided by it: fitted so confidence matches accuracy
    thresholds: dict[str, float] = field(default_factory=dict)  # per label, for routes

    def vector(self, page: Page, found: Sequence[Event] | None = None) -> dict[int, float]:
        """The page's features as column -> value, in the coefficient rows' order."""
        out = _tfidf(terms(page.words, self.ngrams), self.vocab, self.idf)
        base = len(self.vocab)
        if self.chars:
            for i, w in _tfidf(char_terms(page.words), self.chars, self.char_idf).items():
                out[base + i] = w
        base += len(self.chars)
        if self.cue_names:
            named = cues(page, found)
            for i, name in enumerate(self.cue_names):
                if name in named:
                    out[base + i] = named[name] * self.cue_scale
        return out

    def logits(self, page: Page, found: Sequence[Event] | None = None) -> list[float]:
        x = self.vector(page, found)
        return [
            b + sum(row[i] * w for i, w in x.items())
            for row, b in zip(self.coef, self.intercept, strict=True)
        ]

    def probabilities(
        self,
        page: Page,
        temperature: float | None = None,
        found: Sequence[Event] | None = None,
    ) -> dict[str, float]:
        """Calibrated probabilities (softmax of the logits over the fitted temperature)."""
        t = self.temperature if temperature is None else temperature
        return softmax(self.labels, [z / t for z in self.logits(page, found)])

    def to_json(self) -> str:
        return json.dumps(
            {
                "format": FORMAT,
                "labels": self.labels,
                "ngrams": self.ngrams,
                "trained_on": self.trained_on,
                "temperature": round(self.temperature, 4),
                "thresholds": {k: round(v, 3) for k, v in sorted(self.thresholds.items())},
                "cue_names": self.cue_names,
                "cue_scale": self.cue_scale,
                "vocab": sorted(self.vocab, key=self.vocab.__getitem__),
                "idf": [round(v, 4) for v in self.idf],
                "chars": sorted(self.chars, key=self.chars.__getitem__),
                "char_idf": [round(v, 4) for v in self.char_idf],
                "coef": [[round(v, 4) for v in row] for row in self.coef],
                "intercept": [round(v, 4) for v in self.intercept],
            },
            ensure_ascii=False,
            separators=(",", ":"),
        )


def softmax(labels: tuple[str, ...], logits: list[float]) -> dict[str, float]:
    top = max(logits)
    exps = [math.exp(z - top) for z in logits]
    total = sum(exps)
    return {label: e / total for label, e in zip(labels, exps, strict=True)}


def parse(text: str, where: str) -> LinearModel:
    try:
        data = json.loads(text)
        # Format 1 (issue 5: word n-grams only) still loads, so a model retrained into a state
        # directory before an upgrade keeps working until `watcher retrain` is run again.
        if data.get("format") not in (1, FORMAT):
            raise ValueError(f"format {data.get('format')!r}, expected {FORMAT}")
        vocab = {term: i for i, term in enumerate(data["vocab"])}
        chars = {term: i for i, term in enumerate(data.get("chars", []))}
        cue_names = tuple(str(n) for n in data.get("cue_names", []))
        coef = tuple(tuple(float(v) for v in row) for row in data["coef"])
        idf = tuple(float(v) for v in data["idf"])
        char_idf = tuple(float(v) for v in data.get("char_idf", []))
        labels = tuple(str(label) for label in data["labels"])
        width = len(vocab) + len(chars) + len(cue_names)
        if len(coef) != len(labels) or any(len(row) != width for row in coef):
            raise ValueError("coefficient shape does not match labels and features")
        if len(idf) != len(vocab) or len(char_idf) != len(chars):
            raise ValueError("idf length does not match the vocabulary")
        temperature = float(data.get("temperature", 1.0))
        if not temperature > 0:
            raise ValueError("temperature must be positive")
        return LinearModel(
            labels=labels,
            vocab=vocab,
            idf=idf,
            coef=coef,
            intercept=tuple(float(v) for v in data["intercept"]),
            ngrams=int(data["ngrams"]),
            trained_on=str(data.get("trained_on", "")),
            chars=chars,
            char_idf=char_idf,
            cue_names=cue_names,
            cue_scale=float(data.get("cue_scale", 1.0)),
            temperature=temperature,
            thresholds={str(k): float(v) for k, v in dict(data.get("thresholds", {})).items()},
        )
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise ConfigError(
            f"{where}: not a watcher model ({exc}); rebuild it with `make model` or `watcher retrain`"
        ) from None


@cache
def load(path: Path | None = None) -> LinearModel | None:
    """The model at `path` (a retrained one), else the shipped one; None when neither exists."""
    target = path or SHIPPED
    if not target.is_file():
        if path is not None:
            raise ConfigError(
                f"{path}: model file not found; run `watcher retrain` or remove [classify] model"
            )
        return None
    return parse(target.read_text(encoding="utf-8"), str(target))
