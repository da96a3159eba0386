"""The `gapspider` command line: every bad argument gets one clear line and exit status 2, never a traceback."""

from __future__ import annotations

import pytest

from gapspider import cli


@pytest.fixture
def env(sqlite_url, tmp_path, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", sqlite_url)
    monkeypatch.setenv("GAPSPIDER_OUTPUT_DIR", str(tmp_path))
    return sqlite_url


@pytest.mark.parametrize("argv, message", [
    (["fetch-show", "abc"], "a fetch id is a number"),
    (["postprocess", "x"], "a fetch id is a number"),
    (["fetch-show", "\u00b2"], "a fetch id is a number"),
    (["fetch-show", "7"], "there is no fetch 7"),
    (["pages", "\u00b2"], "there is no pages group '\u00b2'"),
    (["page-add", "\u00b2", "T", "https://www.gap.com/browse/category.do?cid=5225"], "there is no pages group"),
])
def test_bad_references_are_one_clear_line(env, capsys, argv, message):
    assert cli.main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("gapspider: ") and message in err
    assert "Traceback" not in err
