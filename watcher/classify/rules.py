"""Categories for a change, each with the sentence that states it. Pure.

With a model (the shipped one by default): what the publisher's metadata states decides; else
the model, which reads word and character n-grams and the events stated in each sentence
(`events.py`) with how decisive each sentence is, names the main category with a calibrated
confidence; every other event stated firmly in the text adds its category, with its sentence.
Without a model, the older rules-only scoring below (GOV.UK wording cues) is used.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from watcher.categories import CATEGORIES
from watcher.classify.events import Event, events, strongest
from watcher.classify.metadata import stated
from watcher.classify.minor import is_minor
from watcher.classify.model import LinearModel, Page, document, load
from watcher.classify.wording import wording_scores

LABELS = CATEGORIES  # declared in watcher/categories.py


@dataclass(frozen=True)
class Category:
    label: str
    confidence: float
    sentence: str  # what triggered it ("" when only the title or URL did)
    decided_by: str = "text"  # or what the publisher stated: "metadata: govuk:format=..."


def classify(
    text: str,
    title: str = "",
    url: str = "",
    removed: str = "",
    description: str = "",
    model: LinearModel | bool | None = True,
    labels: tuple[str, ...] = LABELS,
    document_type: str = "",
    change: bool = False,
    metadata: Mapping[str, str] | None = None,
) -> tuple[Category, ...]:
    """Categories of a change (its added `text`), strongest first, each with its evidence sentence.

    What the publisher states (`metadata`, `document_type`, the URL's host) decides; else the
    model names the main category, with its calibrated probability; every other event stated
    firmly in a sentence adds its category. Without a model, the rules-only scoring, where with
    `change` a sentence stating a closing date or an amount outweighs the title.
    """
    if removed and is_minor(text, removed):
        return (Category("minor", 0.6, ""),)
    linear = load() if model is True else (model if isinstance(model, LinearModel) else None)
    said = stated(metadata, url, document_type)
    if linear is not None:
        return _with_model(linear, document(text, title, description, url), said, labels)
    return _rules(text, title, url, description, labels, said, change)


# A sentence stating another event adds its category when it is at least this decisive
# (a strong cue in the lead, or a strong cue backed by its fact anywhere).
SECONDARY = 0.65
STATED_CONFIDENCE = 0.97


def _with_model(
    linear: LinearModel,
    page: Page,
    said: tuple[str, str] | None,
    labels: tuple[str, ...],
) -> tuple[Category, ...]:
    found = events(page.text, page.title)
    best = strongest(found)
    probs = linear.probabilities(page, found=found)
    allowed = [label for label in sorted(probs, key=lambda k: -probs[k]) if label in labels]
    out: list[Category] = []
    if said is not None:
        out.append(Category(said[0], STATED_CONFIDENCE, _sentence(best, said[0]), said[1]))
    elif allowed:
        top = allowed[0]
        out.append(Category(top, round(min(probs[top], 0.99), 2), _sentence(best, top)))
    for event in sorted(best.values(), key=lambda e: (-e.weight, e.index)):
        if event.label == "news" or event.weight < SECONDARY or event.label not in labels:
            continue
        if all(c.label != event.label for c in out):
            out.append(Category(event.label, _joined(probs, event), event.sentence))
    return tuple(out)


def _sentence(best: Mapping[str, Event], label: str) -> str:
    event = best.get(label)
    return event.sentence if event is not None else ""


def _joined(probs: Mapping[str, float], event: Event) -> float:
    """A category named by a sentence: the model's probability, raised by how firmly the
    sentence states it (the main category's confidence is the calibrated one)."""
    p = probs.get(event.label, 0.0)
    return round(min(0.95, 1.0 - (1.0 - p) * (1.0 - 0.6 * event.weight)), 2)


def _rules(
    text: str,
    title: str,
    url: str,
    description: str,
    labels: tuple[str, ...],
    said: tuple[str, str] | None,
    change: bool,
) -> tuple[Category, ...]:
    """The rules-only scoring, used when no model is available."""
    scores, found = wording_scores(text, title, url, description, said, change)
    ranked = sorted(scores.items(), key=lambda kv: -kv[1])
    return tuple(
        Category(
            label,
            round(min(0.95, score / (score + 1.5)), 2),
            found.get(label, ""),
            said[1] if said is not None and label == said[0] else "text",
        )
        for label, score in ranked
        if score >= 1.0 and label in labels
    )
