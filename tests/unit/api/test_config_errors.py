"""A bad DATAVAULT_* value stops `datavault up` with one line naming it, exit 2, no traceback."""

from __future__ import annotations

from pathlib import Path

import pytest

from api.cli import main


@pytest.mark.parametrize(
    ("var", "value"), [("DATAVAULT_MAX_BODY_BYTES", "abc"), ("DATAVAULT_CHAIN", "foo"), ("DATAVAULT_LOG_FORMAT", "xml")]
)
def test_a_bad_variable_is_one_line_and_exit_2(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    var: str,
    value: str,
) -> None:
    monkeypatch.setenv(var, value)
    assert main(["--datadir", str(tmp_path), "up", "--port", "0"]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err.startswith("datavault: ") and err.count("\n") == 1 and var in err and "Traceback" not in err
    assert not (tmp_path / "vault.db").exists()  # nothing was started


def test_a_bad_log_level_option_is_refused_by_the_parser(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["--datadir", str(tmp_path), "up", "--log-level", "loud"])
    assert info.value.code == 2 and "--log-level" in capsys.readouterr().err
