"""Source kinds: the registry that turns a fetched response into blocks, and `sources --kinds`."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest

from watcher import kinds
from watcher.errors import ConfigError
from watcher.models import Fetched, Source, Validators

SOURCE = Source(name="dfe", url="https://example.org/page", every=timedelta(hours=1))


def fetched(text: str, content_type: str = "text/html") -> Fetched:
    return Fetched(
        url=SOURCE.url,
        final_url=SOURCE.url,
        status=200,
        not_modified=False,
        content_type=content_type,
        body=text.encode("utf-8"),
        text=text,
        validators=Validators(),
        duration_ms=1,
    )


def test_the_registry_lists_page_by_name() -> None:
    assert "page" in kinds.kinds()
    assert SOURCE.kind == "page"
    assert isinstance(kinds.kind("page"), kinds.Kind)


def test_an_unknown_kind_is_a_typed_error_naming_the_kinds() -> None:
    with pytest.raises(kinds.UnknownKind) as caught:
        kinds.kind("no-such-kind")
    assert isinstance(caught.value, ConfigError)
    assert "'no-such-kind'" in str(caught.value) and "page" in str(caught.value)


def test_each_kind_shows_the_first_paragraph_of_its_docstring() -> None:
    for name, kind in kinds.kinds().items():
        summary = kind.summary()
        assert summary and "\n" not in summary, name
        assert summary in " ".join((kind.__doc__ or "").split())


def test_a_kind_name_is_registered_once() -> None:
    with pytest.raises(TypeError, match="defined twice"):

        class Again(kinds.Kind):
            __kind__ = "page"


def test_page_reads_html_by_its_main_region_and_text_by_line() -> None:
    html = (
        "<html><body><nav>Home</nav><main><h1>Kinship</h1><p>£200 million.</p></main></body></html>"
    )
    assert kinds.read(fetched(html), SOURCE).blocks == ("# Kinship", "£200 million.")
    text = "First line\n\n  Second   line \n"
    assert kinds.read(fetched(text, "text/plain"), SOURCE).blocks == ("First line", "Second line")


def test_read_uses_the_source_kind() -> None:
    odd = Source(name="x", url=SOURCE.url, every=SOURCE.every, kind="no-such-kind")
    with pytest.raises(kinds.UnknownKind, match="no-such-kind"):
        kinds.read(fetched("<p>x</p>"), odd)


@pytest.mark.slow
def test_sources_kinds_lists_each_kind_without_a_config(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("WATCHER_")}
    proc = subprocess.run(
        [sys.executable, "-m", "watcher.cli", "sources", "--kinds"],
        cwd=tmp_path,  # no sources.toml here: listing kinds needs none
        env=env,
        capture_output=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.decode("utf-8").splitlines()
    assert lines == [f"{name}: {kind.summary()}" for name, kind in kinds.kinds().items()]
    assert any(line.startswith("page: A web page") for line in lines)


def test_each_kind_module_defines_the_kind_it_is_listed_for() -> None:
    # Kinds are imported when first used, by the module base.MODULES names for them.
    assert kinds.names() == list(kinds.kinds())
    for name, module in kinds.base.MODULES.items():
        assert type(kinds.kind(name)).__module__ == module
