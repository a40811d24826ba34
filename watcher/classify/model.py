"""The statistical half of classification: a linear model over word 1-2 grams. Pure inference.

Trained by `watcher.classify.train` (scikit-learn's TfidfVectorizer and LogisticRegression) and
exported as plain JSON: vocabulary, idf weights and one coefficient row per label. Inference here
re-implements the vectoriser's tokenising, sublinear tf, idf and l2 norm in a few lines, so the
daemon needs neither scikit-learn nor pickle (a pickle is code, and tied to library versions).
"""

from __future__ import annotations

import json
import math
import re
from collections import Counter
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from watcher.errors import ConfigError

SHIPPED = Path(__file__).with_name("model.json")
TOKEN = re.compile(r"(?u)\b\w\w+\b")  # scikit-learn's default token_pattern
FORMAT = 1


def document(text: str, title: str = "", description: str = "") -> str:
    """The text a model reads: the title twice (it names the kind of page), then the rest."""
    return f"{title} . {title} . {description} . {text}"


def terms(doc: str, ngrams: int = 2) -> Counter[str]:
    words = TOKEN.findall(doc.lower())
    counts: Counter[str] = Counter(words)
    for n in range(2, ngrams + 1):
        counts.update(" ".join(words[i : i + n]) for i in range(len(words) - n + 1))
    return counts


@dataclass(frozen=True)
class LinearModel:
    labels: tuple[str, ...]
    vocab: dict[str, int]
    idf: tuple[float, ...]
    coef: tuple[tuple[float, ...], ...]  # one row per label, one column per vocabulary term
    intercept: tuple[float, ...]
    ngrams: int
    trained_on: str

    def probabilities(self, doc: str) -> dict[str, float]:
        weights: dict[int, float] = {}
        for term, count in terms(doc, self.ngrams).items():
            index = self.vocab.get(term)
            if index is not None:
                weights[index] = (1.0 + math.log(count)) * self.idf[index]
        norm = math.sqrt(sum(w * w for w in weights.values())) or 1.0
        logits = [
            b + sum(row[i] * w for i, w in weights.items()) / norm
            for row, b in zip(self.coef, self.intercept, strict=True)
        ]
        top = max(logits)
        exps = [math.exp(z - top) for z in logits]
        total = sum(exps)
        return {label: e / total for label, e in zip(self.labels, exps, strict=True)}

    def to_json(self) -> str:
        return json.dumps(
            {
                "format": FORMAT,
                "labels": self.labels,
                "ngrams": self.ngrams,
                "trained_on": self.trained_on,
                "vocab": sorted(self.vocab, key=self.vocab.__getitem__),
                "idf": [round(v, 4) for v in self.idf],
                "coef": [[round(v, 4) for v in row] for row in self.coef],
                "intercept": [round(v, 4) for v in self.intercept],
            },
            ensure_ascii=False,
            separators=(",", ":"),
        )


def parse(text: str, where: str) -> LinearModel:
    try:
        data = json.loads(text)
        if data.get("format") != FORMAT:
            raise ValueError(f"format {data.get('format')!r}, expected {FORMAT}")
        vocab = {term: i for i, term in enumerate(data["vocab"])}
        coef = tuple(tuple(float(v) for v in row) for row in data["coef"])
        idf = tuple(float(v) for v in data["idf"])
        labels = tuple(str(label) for label in data["labels"])
        if len(coef) != len(labels) or any(len(row) != len(vocab) for row in coef):
            raise ValueError("coefficient shape does not match labels and vocabulary")
        if len(idf) != len(vocab):
            raise ValueError("idf length does not match the vocabulary")
        return LinearModel(
            labels=labels,
            vocab=vocab,
            idf=idf,
            coef=coef,
            intercept=tuple(float(v) for v in data["intercept"]),
            ngrams=int(data["ngrams"]),
            trained_on=str(data.get("trained_on", "")),
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
