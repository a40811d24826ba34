"""Each [watcher] default is declared once, on Settings: a file that sets nothing gets exactly those."""

from __future__ import annotations

from dataclasses import MISSING, fields
from pathlib import Path

from watcher.config import Settings, load_config
from watcher.models import EgressPolicy


def test_an_empty_watcher_table_gives_the_declared_defaults(tmp_path: Path) -> None:
    path = tmp_path / "sources.toml"
    path.write_text("[watcher]\n", encoding="utf-8")
    settings = load_config(path, environ={}).settings
    for f in fields(Settings):
        if f.default is not MISSING:
            assert getattr(settings, f.name) == f.default, f.name
    for f in fields(EgressPolicy):
        if f.default is not MISSING and f.name != "allow_cidrs":
            assert getattr(settings.egress, f.name) == f.default, f.name


def test_a_value_given_replaces_the_default(tmp_path: Path) -> None:
    path = tmp_path / "sources.toml"
    path.write_text(
        '[watcher]\nmax_attempts = 3\nalert_hold = "2m"\ndigest_at = "07:30"\nkeep_checks = "30d"\n',
        encoding="utf-8",
    )
    settings = load_config(path, environ={}).settings
    assert settings.max_attempts == 3 and settings.alert_hold == 120.0
    assert settings.digest_at == (7, 30) and settings.keep_checks.days == 30


def test_per_host_concurrency_is_read_beside_the_gap(tmp_path: Path) -> None:
    path = tmp_path / "sources.toml"
    path.write_text(
        '[watcher]\nstate_dir = "s"\nper_host_gap = "0s"\nper_host_concurrency = 4\n'
        '[[source]]\nname = "a"\nurl = "https://example.org/"\n'
    )
    egress = load_config(path, environ={}).settings.egress
    assert (egress.per_host_gap, egress.per_host_concurrency) == (0, 4)
