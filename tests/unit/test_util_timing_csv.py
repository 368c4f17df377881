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
        m.setattr(timing_csv._BlockParser, "_parse_ints", lambda self, data: None)
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
    parsed = parser._parse_ints((HEADER + rows).split("\n", 1)[1].encode())
    assert parsed is not None  # not handed back: the fast path did the work
    table = read_columns(path, COLUMNS)
    assert table["pts_us"].tolist() == [i * 33_333 - 100 for i in range(n)]
    assert np.array_equal(table["big"], 10**18 + np.arange(n))
