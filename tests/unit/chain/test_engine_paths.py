"""A managed node's files are named by absolute paths: it runs with another working directory.

`make run` passes the relative data directory `.datavault`; anvil, started with its working
directory in that directory, read `--state .datavault/chain-state.json` as a path inside it and
never wrote the chain's state, so the next start found the chain reset.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from chain.engines.anvil import AnvilEngine


def test_anvil_is_told_absolute_paths_whatever_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    engine = AnvilEngine(Path(".datavault"), binary=Path("/usr/bin/true"))  # only the command line is looked at
    monkeypatch.chdir("/")  # later changes of directory change nothing
    argv = engine.command(8545)
    state = Path(argv[argv.index("--state") + 1])
    assert state == tmp_path / ".datavault" / "chain-state.json"
    assert engine.datadir == tmp_path / ".datavault" and engine.state_path == state
