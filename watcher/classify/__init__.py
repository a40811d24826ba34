"""Classification of changes and the evidence behind it: pure, no I/O at classify time."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
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
    # The shipped model is read at the first change classified, not at start-up: a first pass or
    # a pass of 304s never needs its ~12 MB. A configured or retrained model is read at once, so
    # a broken one fails at start-up, not at the first change.
    shipped_model: bool = False

    @classmethod
    def shipped(cls) -> Classifier:
        return cls(shipped_model=True)

    def warm(self) -> None:
        """Read the model now (a daemon does at start; a one-off pass only if a change comes)."""
        _ = self._model

    @cached_property
    def _model(self) -> LinearModel | None:
        return load() if self.model is None and self.shipped_model else self.model

    @classmethod
    def configured(
        cls, labels: tuple[str, ...], model_path: Path | None, state_dir: Path
    ) -> Classifier:
        """[classify] model if set, else a model retrained into the state directory, else the
        shipped one."""
        retrained = state_dir / MODEL_FILE
        path = model_path or (retrained if retrained.is_file() else None)
        if path is None:
            return cls(labels=labels, shipped_model=True)
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
            model=self._model if self._model is not None else False,
            labels=self.labels,
            change=True,
            metadata=metadata,
        )

    def thresholds(self) -> dict[str, float]:
        """Per category, the confidence above which held-out guesses were right 80% of the time."""
        model = self._model
        return dict(model.thresholds) if model is not None else {}


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
