"""The `[[topic]]` tables: subjects the team follows, matched in each change's text."""

from __future__ import annotations

from typing import Any

from watcher.config.reader import Reader
from watcher.topics import Topic, words

TOPIC_KEYS = ("name", "phrases", "synonyms", "exclude")


class TopicReader(Reader):
    def topic(self, data: Any, index: int) -> Topic:
        header = self.where.table("topic", index)
        if not isinstance(data, dict):
            raise self.fail(header, "[[topic]] must be a table")
        name = data.get("name")
        what = f"topic {name!r}" if isinstance(name, str) else f"topic #{index + 1}"
        self.check_keys(data, TOPIC_KEYS, what, "topic", index)
        if not isinstance(name, str) or not name.strip() or len(name) > 64:
            raise self.fail(
                self.where.key("name", "topic", index) or header,
                f'{what}: name is required, up to 64 characters, like name = "Kinship care"',
            )
        if "phrases" not in data:
            raise self.fail(
                header, f'{what}: phrases is required, like phrases = ["kinship care", "kinship"]'
            )
        found = {}
        for key in ("phrases", "synonyms", "exclude"):
            given = self.string_list(data.get(key, []), key, what, "topic", index)
            empty = [g for g in given if not words(g)]
            if empty:
                raise self.fail(
                    self.where.key(key, "topic", index) or header,
                    f"{what}: {key} {empty} have no words to match; write words or leave them out",
                )
            found[key] = given
        if not found["phrases"]:
            raise self.fail(
                self.where.key("phrases", "topic", index) or header,
                f'{what}: phrases is empty; give at least one, like phrases = ["kinship care"]',
            )
        return Topic(
            name=name.strip(),
            phrases=found["phrases"],
            synonyms=found["synonyms"],
            exclude=found["exclude"],
        )
