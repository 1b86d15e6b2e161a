"""`python -m eoffice.migrate`: its arguments are checked before anything is migrated."""

from __future__ import annotations

import pytest

from eoffice import migrate


@pytest.fixture
def upgraded(monkeypatch) -> list[str]:
    calls: list[str] = []
    monkeypatch.setattr(migrate, "upgrade", calls.append)
    return calls


@pytest.mark.parametrize("argv", [["--help"], ["nosuch"], ["files", "nosuch"]])
def test_help_or_an_unknown_service_migrates_nothing(argv, upgraded, capsys):
    with pytest.raises(SystemExit) as ended:
        migrate.main(argv)
    assert ended.value.code == (0 if argv == ["--help"] else 2)
    assert upgraded == []
    if argv != ["--help"]:
        assert "nosuch: no such service" in capsys.readouterr().err
