"""bench/throughput.py does not rot: generated pages, loopback servers with validators, and
measured `watcher check` passes over 20 pages on 5 hosts. Checks figures exist, never their size."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parent.parent / "bench"
sys.path.insert(0, str(BENCH))

import signal_quality  # noqa: E402  (bench/ is a folder of scripts, not a package)
import throughput  # noqa: E402

GENERATOR = Path(signal_quality.DEFAULT_GENERATOR)


@pytest.mark.slow
@pytest.mark.skipif(not GENERATOR.is_file(), reason="../shared/pages/make_pages.py is absent")
def test_a_measured_watcher_pass_over_20_generated_pages_then_304s(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(signal_quality, "WORKDIR", [str(tmp_path)])  # the tools run there
    args = throughput.parse_args(["--sizes", "20"])
    one_host = throughput.make_pages(args, 20, tmp_path / "pages")
    root = throughput.spread(one_host, tmp_path / "spread", 5)
    pages, servers = throughput.serve(root)
    try:
        assert len(servers.by_site) == 5
        tool = throughput.MeasuredWatcher(
            tmp_path / "run", pages, servers, throughput.tool_args(args, 20)
        )
        servers.switch(0)
        first = tool.run_pass(0)
        assert first.errors == 0 and len(first.outcomes) == 20
        assert not first.alerts  # version 0 is the baseline
        assert tool.usage.wall > 0 and tool.usage.cpu > 0 and tool.usage.peak_rss > 0
        assert tool.state_bytes() > 0
        servers.take_counts()
        again = tool.run_pass(0)  # the same bytes: the servers answer the validators with 304s
        assert again.http == {304: 20}
    finally:
        servers.stop()
