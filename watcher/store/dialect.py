"""SQL fragments that differ between SQLite and PostgreSQL, for the statements that need them.

Everything else is written once in a form both engines take (RETURNING, ON CONFLICT,
IS NOT DISTINCT FROM, sums of CASE). JSON columns are text on both; PostgreSQL casts them.
"""

from __future__ import annotations

from watcher.store.reviews import CORRECTED_AT

POSTGRESQL = "postgresql"


def json_values(engine: str, column: str, alias: str) -> str:
    """A FROM item over a JSON text column holding a list, its elements as `alias.value`."""
    if engine == POSTGRESQL:
        return f"jsonb_array_elements_text({column}::jsonb) AS {alias}(value)"
    return f"json_each({column}) {alias}"


def json_list(engine: str) -> str:
    """The aggregate that collects values into a JSON list (psycopg decodes PostgreSQL's)."""
    return "json_agg" if engine == POSTGRESQL else "json_group_array"


def json_path(engine: str, column: str, *path: str | int) -> str:
    """The text at `path` inside a JSON text column (NULL when missing)."""
    if engine == POSTGRESQL:
        return f"({column}::jsonb #>> '{{{','.join(str(p) for p in path)}}}')"
    steps = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in path)
    return f"json_extract({column}, '${steps}')"


def timeline_columns(engine: str) -> str:
    """A timeline row's columns: the change, and its first category's confidence and sentence."""
    confidence = json_path(engine, "c.evidence", "categories", 0, "confidence")
    if engine == "postgresql":
        confidence = f"{confidence}::float8"
    sentence = json_path(engine, "c.evidence", "categories", 0, "sentence")
    first = json_path(engine, "c.evidence", "sentences", 0)
    # After a correction the classifier's confidence was for the replaced label: none is shown.
    return (
        "c.id, c.source, c.url, c.detected_at, c.title, c.summary, c.category, c.review_state, "
        f"c.corrected_by, {CORRECTED_AT}, "
        f"CASE WHEN c.corrected_by IS NULL THEN {confidence} END AS confidence, "
        f"coalesce(nullif({sentence}, ''), {first}) AS sentence"
    )
