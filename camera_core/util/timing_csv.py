"""Reading chosen columns of a timing CSV into numpy arrays, block by block, so a 10-hour file
(a million rows, 100 MB) costs the arrays it yields and one block, never a Python object per field.

Rows that do not parse (a line cut short by a power loss, a stray text) are skipped and counted;
a last line without its newline (a write cut short) is read like any other if it parses."""

from __future__ import annotations

import io
from array import array
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np

#: Bytes read per block: big enough for numpy's parser to run at full speed, small beside the arrays.
BLOCK_BYTES = 1 << 22
#: Files up to this size are read without numpy (whose import alone costs more than reading them).
SMALL_FILE_BYTES = 1 << 20


class TimingCsvError(Exception):
    """The file cannot be read as a timing CSV (unreadable, empty, a required column missing)."""


@dataclass(frozen=True, slots=True)
class Column:
    """One column to read: its numpy type (an integer or a float type; a narrower one saves memory,
    a value that does not fit makes the row unreadable) and what an empty field (or a column the
    file lacks) reads as; None makes the column required and a row with it empty unreadable."""

    name: str
    type: str = "int64"
    default: int | float | None = None

    @property
    def dtype(self) -> np.dtype:
        import numpy as np

        return np.dtype(self.type)

    def parse(self, text: str) -> int | float:
        return int(text) if self.dtype.kind in "iu" else float(text)


@dataclass(slots=True)
class TimingColumns:
    """The columns read from one CSV, one entry per readable row, in file order."""

    header: tuple[str, ...]
    values: Mapping[str, np.ndarray]
    skipped_rows: int = 0

    @property
    def rows(self) -> int:
        return int(next(iter(self.values.values())).size) if self.values else 0

    def __getitem__(self, name: str) -> np.ndarray:
        return self.values[name]


def read_header(path: Path) -> tuple[str, ...]:
    """The column names of a timing CSV; TimingCsvError when it is unreadable or empty."""
    try:
        with path.open("rb") as f:
            line = f.readline()
    except OSError as exc:
        raise TimingCsvError(f"{path.name}: cannot read: {exc}") from exc
    if not line.strip():
        raise TimingCsvError(f"{path.name}: empty file (no header line)")
    try:
        return tuple(name.strip() for name in line.decode("utf-8").rstrip("\r\n").split(","))
    except UnicodeDecodeError as exc:
        raise TimingCsvError(f"{path.name}: cannot read: {exc}") from exc


def count_rows(path: Path) -> int:
    """Lines after the header that hold something (a last line without its newline counts)."""
    try:
        with path.open("rb") as f:
            f.readline()
            rows = 0
            previous = b"\n"
            while block := f.read(BLOCK_BYTES):
                rows += block.count(b"\n") - (previous + block).count(b"\n\n")
                previous = block[-1:]
            return rows + (previous != b"\n")
    except OSError as exc:
        raise TimingCsvError(f"{path.name}: cannot read: {exc}") from exc


def read_int_column(path: Path, name: str) -> Sequence[int]:
    """One integer column (rows that do not parse skipped), for tools that need nothing else:
    a small file is parsed line by line without importing numpy, a large one as read_columns does."""
    header = read_header(path)
    if name not in header:
        raise TimingCsvError(f"{path.name}: not a timing CSV (missing column: {name})")
    try:
        if path.stat().st_size > SMALL_FILE_BYTES:
            return read_columns(path, [Column(name)])[name].data
        position = header.index(name)
        values = array("q")
        with path.open("rb") as f:
            f.readline()
            for line in f:
                fields = line.split(b",")
                if len(fields) > position:
                    try:
                        values.append(int(fields[position]))
                    except (ValueError, OverflowError):
                        continue
        return values
    except OSError as exc:
        raise TimingCsvError(f"{path.name}: cannot read: {exc}") from exc


def read_columns(path: Path, columns: list[Column]) -> TimingColumns:
    """The given columns of `path` as arrays (rows that do not parse skipped and counted)."""
    import numpy as np

    header = read_header(path)
    missing = [c.name for c in columns if c.default is None and c.name not in header]
    if missing:
        raise TimingCsvError(f"{path.name}: not a timing CSV (missing columns: {', '.join(missing)})")
    present = [c for c in columns if c.name in header]
    positions = [header.index(c.name) for c in present]
    parser = _BlockParser(present, positions)
    try:
        size = path.stat().st_size
        with path.open("rb") as f:
            f.readline()
            parts = parser.parse_file(f, _line_bound(f, size))
    except OSError as exc:
        raise TimingCsvError(f"{path.name}: cannot read: {exc}") from exc
    rows = parts[0].size if parts else 0
    values: dict[str, np.ndarray] = {}
    for c in columns:
        if c.name in header:
            values[c.name] = parts[present.index(c)]
        else:
            values[c.name] = np.full(rows, c.default, dtype=c.dtype)
    return TimingColumns(header, values, parser.skipped)


def _line_bound(f: io.BufferedReader, size: int) -> int:
    """Most rows the rest of the file can hold (its newlines, plus one unterminated line), counted
    in one pass of blocks so the arrays are allocated once."""
    start = f.tell()
    lines = 0
    last = b"\n"
    while block := f.read(BLOCK_BYTES):
        lines += block.count(b"\n")
        last = block[-1:]
    f.seek(start)
    return lines + (0 if last == b"\n" or size == start else 1)


class _BlockParser:
    """Parses blocks of whole lines with numpy's C parser, falling back to a line-by-line parse
    for a block holding a line numpy rejects, so only that line is lost."""

    def __init__(self, columns: list[Column], positions: list[int]) -> None:
        self.columns = columns
        self.positions = positions
        self.needed = max(positions, default=-1) + 1
        self.skipped = 0
        import numpy as np

        self._dtype = np.dtype([(f"c{i}", c.dtype) for i, c in enumerate(columns)])

    def parse_file(self, f: io.BufferedReader, bound: int) -> list[np.ndarray]:
        import numpy as np

        out = [np.empty(bound, dtype=c.dtype) for c in self.columns]
        filled = 0
        carry = b""
        while True:
            block = f.read(BLOCK_BYTES)
            data = carry + block
            if not block:
                carry = b""
            else:
                cut = data.rfind(b"\n") + 1
                data, carry = data[:cut], data[cut:]
            if data:
                filled = self._parse_into(data, out, filled)
            if not block:
                break
        return [a[:filled] for a in out]

    def _parse_into(self, data: bytes, out: list[np.ndarray], filled: int) -> int:
        import numpy as np

        fast = self._parse_plain(data) if all(c.dtype.kind in "iuf" for c in self.columns) else None
        if fast is not None:
            n = fast[0].size
            for column, values in zip(out, fast, strict=True):
                column[filled : filled + n] = values
            return filled + n
        text = data.decode("utf-8", "replace")
        if not text.strip():
            return filled
        try:
            table = np.loadtxt(
                io.StringIO(text), delimiter=",", usecols=self.positions, dtype=self._dtype, ndmin=1, comments=None
            )
        except (ValueError, OverflowError):
            return self._parse_lines(text, out, filled)
        n = table.size
        for i, column in enumerate(out):
            column[filled : filled + n] = table[f"c{i}"]
        return filled + n

    def _parse_plain(self, data: bytes) -> list[np.ndarray] | None:
        """The columns of a block of whole lines parsed with vectorised digit arithmetic (several
        times faster than loadtxt): integers, and decimals without exponent (to the same double
        loadtxt gives); None when any line is not plain (a blank line, a short row, a field that is
        not such a number, a value that does not fit): loadtxt then decides row by row."""
        import numpy as np

        buf = np.frombuffer(data, dtype=np.uint8)
        newlines = np.flatnonzero(buf == 10)
        if newlines.size == 0 or newlines[-1] != buf.size - 1:
            return None
        starts = np.empty_like(newlines)
        starts[0] = 0
        starts[1:] = newlines[:-1] + 1
        commas = np.flatnonzero(buf == 44)
        first = np.searchsorted(commas, starts)
        count = np.searchsorted(commas, newlines) - first
        if int(count.min()) < self.needed - 1:
            return None
        result: list[np.ndarray] = []
        for column, position in zip(self.columns, self.positions, strict=True):
            begin = starts if position == 0 else commas[first + position - 1] + 1
            has_comma = count > position
            end = np.where(has_comma, commas[np.minimum(first + position, commas.size - 1)], newlines)
            length = end - begin
            negative = buf[np.minimum(begin, buf.size - 1)] == 45
            begin = begin + negative
            length = length - negative
            if int(length.max()) > 19:
                return None
            if int(length.min()) < 1 and (column.default is None or bool(np.any(negative & (length < 1)))):
                return None
            is_float = column.dtype.kind == "f"
            value = np.zeros(newlines.size, dtype=np.int64)
            dot_at = np.full(newlines.size, -1, dtype=np.int64)
            for k in range(int(length.max())):
                inside = k < length
                digit = buf[np.minimum(begin + k, buf.size - 1)].astype(np.int64) - 48
                dot = inside & (digit == -2) if is_float else np.zeros(newlines.size, dtype=bool)
                if bool(np.any(dot & (dot_at >= 0))):
                    return None  # two dots
                dot_at = np.where(dot, k, dot_at)
                if bool(np.any(inside & ~dot & ((digit < 0) | (digit > 9)))):
                    return None
                value = np.where(inside & ~dot, value * 10 + digit, value)
            if bool(np.any(value < 0)):
                return None  # wrapped around: a value beyond int64
            if is_float:
                if bool(np.any(value >= 2**53)) or bool(np.any((dot_at >= 0) & (length == 1))):
                    return None  # beyond exact integers in a double, or a lone "."
                # digits / 10**decimals: both exact doubles, so one correctly rounded division,
                # the value strtod (and loadtxt) gives
                decimals = np.where(dot_at >= 0, length - 1 - dot_at, 0)
                number = value.astype(np.float64) / np.power(10.0, decimals)
                number = np.where(negative, -number, number)
                if column.default is not None:
                    number = np.where(length < 1, column.default, number)
                result.append(number.astype(column.dtype))
                continue
            value = np.where(negative, -value, value)
            if column.default is not None:
                value = np.where(length < 1, column.default, value)
            info = np.iinfo(column.dtype)
            if int(value.min()) < info.min or int(value.max()) > info.max:
                return None
            result.append(value.astype(column.dtype))
        return result

    def _parse_lines(self, text: str, out: list[np.ndarray], filled: int) -> int:
        for line in text.splitlines():
            if not line.strip():
                continue
            values = self._parse_line(line)
            if values is None:
                self.skipped += 1
                continue
            try:
                for column, value in zip(out, values, strict=True):
                    column[filled] = value
            except OverflowError:
                self.skipped += 1
                continue
            filled += 1
        return filled

    def _parse_line(self, line: str) -> list[int | float] | None:
        fields = line.split(",")
        if len(fields) < self.needed:
            return None
        values: list[int | float] = []
        for column, position in zip(self.columns, self.positions, strict=True):
            text = fields[position].strip()
            if not text:
                if column.default is None:
                    return None
                values.append(column.default)
                continue
            try:
                values.append(column.parse(text))
            except ValueError:
                return None
        return values
