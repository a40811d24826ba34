"""Classification of changes and the evidence behind it: pure, no I/O at classify time."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from watcher.classify.evidence import deadlines, extract_facts, gather, sentences
from watcher.classify.model import LinearModel, load
from watcher.classify.rules import LABELS, Category, classify
from watcher.models import Deadline, Evidence, Fact

MODEL_FILE = "model.json"  # a retrained model in the state directory


@dataclass(frozen=True)
class Classifier:
    """The configured category set and model, applied to one change at a time."""

    labels: tuple[str, ...] = LABELS
    model: LinearModel | None = None

    @classmethod
    def shipped(cls) -> Classifier:
        return cls(model=load())

    @classmethod
    def configured(
        cls, labels: tuple[str, ...], model_path: Path | None, state_dir: Path
    ) -> Classifier:
        """[classify] model if set, else a model retrained into the state directory, else the
        shipped one."""
        retrained = state_dir / MODEL_FILE
        path = model_path or (retrained if retrained.is_file() else None)
        return cls(labels=labels, model=load(path))

    def __call__(
        self,
        text: str,
        title: str = "",
        url: str = "",
        removed: str = "",
        metadata: Mapping[str, str] | None = None,
    ) -> tuple[Category, ...]:
        return classify(
            text,
            title=title,
            url=url,
            removed=removed,
            model=self.model if self.model is not None else False,
            labels=self.labels,
            change=True,
            metadata=metadata,
        )

    def thresholds(self) -> dict[str, float]:
        """Per category, the confidence above which held-out guesses were right 80% of the time."""
        return dict(self.model.thresholds) if self.model is not None else {}


__all__ = [
    "LABELS",
    "MODEL_FILE",
    "Category",
    "Classifier",
    "Deadline",
    "Evidence",
    "Fact",
    "classify",
    "deadlines",
    "extract_facts",
    "gather",
    "sentences",
]
