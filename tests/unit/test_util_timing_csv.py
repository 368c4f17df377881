"""The vectorised integer parser of timing_csv reads exactly what numpy's loadtxt path reads, and
hands any block it cannot read plainly back to it."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from camera_core.util import timing_csv
from camera_core.util.timing_csv import Column, read_columns

HEADER = "frame_number,a,pts_us,big,opt\n"
COLUMNS = [Column("frame_number"), Column("pts_us"), Column("big"), Column("opt", default=-1)]


def both(path: Path, columns: list[Column], monkeypatch: pytest.MonkeyPatch) -> tuple[dict, dict]:
    fast = read_columns(path, columns)
    with monkeypatch.context() as m:
        m.setattr(timing_csv._BlockParser, "_parse_plain", lambda self, data: None)
        slow = read_columns(path, columns)
    return (
        {k: v.tolist() for k, v in fast.values.items()} | {"skipped": fast.skipped_rows},
        {k: v.tolist() for k, v in slow.values.items()} | {"skipped": slow.skipped_rows},
    )


@pytest.mark.parametrize(
    "body",
    [
        "0,1.5,0,1796101275896114982,\n1,2.5,-33,9223372036854775807,7\n",  # negative, int64 max, empty optional
        "0,x,5,1,1\n1,x,6,2,2\n\n2,x,7,3,3\n",  # a blank line
        "0,x,5,1,1\n1,x,6a,2,2\n2,x,7,3,3\n",  # a field that is not an integer
        "0,x,5,1,1\n1,x,6,9223372036854775808,2\n",  # beyond int64
        "0,x,5,1,1\n1,x,6\n2,x,7,3,3\n",  # a short row
        "0,x,5,1,1\r\n1,x,6,2,2\r\n",  # CRLF
    ],
)
def test_fast_and_loadtxt_paths_agree(tmp_path: Path, body: str, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "t.csv"
    path.write_text(HEADER + body)
    fast, slow = both(path, COLUMNS, monkeypatch)
    assert fast == slow


@pytest.mark.parametrize(
    "body",
    [
        "0,1796101275.898615,1\n1,-0.5,2\n2,33333.333,3\n3,,4\n4,7,5\n5,.25,6\n6,3.,7\n",
        "0,1e5,1\n1,2.5,2\n",  # an exponent
        "0,1.2.3,1\n",  # two dots
        "0,inf,1\n",
        "0,12345678901234567.5,1\n",  # more digits than a double holds exactly
    ],
)
def test_decimals_read_as_loadtxt_reads_them(tmp_path: Path, body: str, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "t.csv"
    path.write_text("frame_number,write_time_unix,pts_us\n" + body)
    columns = [Column("frame_number"), Column("write_time_unix", "float64", default=0.0), Column("pts_us")]
    fast, slow = both(path, columns, monkeypatch)
    assert fast == slow


def test_random_decimals_are_the_same_doubles(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    rng = np.random.default_rng(5)
    whole = rng.integers(0, 2_000_000_000, 3000)
    frac = rng.integers(0, 1_000_000, 3000)
    path = tmp_path / "t.csv"
    path.write_text(
        "frame_number,t\n" + "".join(f"{i},{w}.{f:06d}\n" for i, (w, f) in enumerate(zip(whole, frac, strict=True)))
    )
    fast, slow = both(path, [Column("frame_number"), Column("t", "float64")], monkeypatch)
    assert fast == slow


def test_a_narrow_column_out_of_range_agrees(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "t.csv"
    path.write_text(HEADER + "0,x,5,1,1\n1,x,300,2,2\n2,x,7,3,3\n")
    fast, slow = both(path, [Column("frame_number"), Column("pts_us", type="uint8")], monkeypatch)
    assert fast == slow and fast["skipped"] == 1


def test_the_fast_path_reads_a_plain_file(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    n = 5000
    rows = "".join(f"{i},1.0,{i * 33_333 - 100},{10**18 + i},{i % 3}\n" for i in range(n))
    path.write_text(HEADER + rows)
    parser = timing_csv._BlockParser(COLUMNS, [0, 2, 3, 4])
    parsed = parser._parse_plain((HEADER + rows).split("\n", 1)[1].encode())
    assert parsed is not None  # not handed back: the fast path did the work
    table = read_columns(path, COLUMNS)
    assert table["pts_us"].tolist() == [i * 33_333 - 100 for i in range(n)]
    assert np.array_equal(table["big"], 10**18 + np.arange(n))
