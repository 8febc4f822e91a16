"""Read an uploaded .txt or .csv file of texts, or refuse it with a message naming the line."""

import csv
import io
from collections.abc import Iterator

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile

from analyzer.validators import validate_text

# Problems listed at once when a file is refused; the rest are summed up.
MAX_REPORTED_PROBLEMS = 5


def line_of_offset(data: bytes, offset: int) -> int:
    """Return the 1-based line of the byte at offset."""
    return data.count(b"\n", 0, offset) + 1


def decoded(data: bytes) -> str:
    """Return the file as text, or refuse it naming the first line that is not UTF-8."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = line_of_offset(data, error.start)
        raise ValidationError(
            "The file is not UTF-8 text: line %(line)s has a byte (0x%(byte)02X) that is not "
            "valid UTF-8. Save the file as UTF-8 and upload it again.",
            code="encoding",
            params={"line": line, "byte": data[error.start]},
        ) from error


def txt_items(text: str) -> Iterator[tuple[int, str]]:
    """Yield (line, text) for each non-blank line; a trailing \\r of Windows files is dropped."""
    for number, line in enumerate(text.split("\n"), start=1):
        line = line.removesuffix("\r")
        if line.strip():
            yield number, line


def csv_items(text: str, *, column: str) -> Iterator[tuple[int, str]]:
    """Yield (line, text) from the named column of a CSV file with a header row."""
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = next(reader, None)
        if header is None:
            return
        names = [name.strip() for name in header]
        if column.strip() not in names:
            raise ValidationError(
                'Line 1 (the header) has no column "%(column)s"; its columns are: %(names)s.',
                code="column",
                params={"column": column, "names": ", ".join(names) or "(none)"},
            )
        index = names.index(column.strip())
        line = reader.line_num + 1
        for row in reader:
            if not row or not any(cell.strip() for cell in row):
                line = reader.line_num + 1
                continue
            if index >= len(row):
                raise ValidationError(
                    'Line %(line)s has %(count)s columns; "%(column)s" is column %(position)s.',
                    code="columns",
                    params={
                        "line": line,
                        "count": len(row),
                        "column": column,
                        "position": index + 1,
                    },
                )
            if row[index].strip():
                yield line, row[index]
            line = reader.line_num + 1
    except csv.Error as error:
        raise ValidationError(
            "The file is not valid CSV: line %(line)s: %(error)s.",
            code="csv",
            params={"line": reader.line_num, "error": error},
        ) from error


def items_from_upload(*, upload: UploadedFile, column: str = "") -> list[tuple[int, str]]:
    """Return the (line, text) pairs of an uploaded .txt or .csv file, or refuse it.

    The messages name the line: not UTF-8, not CSV, no texts, too many texts, a text too long
    or with control characters.
    """
    data = upload.read()
    text = decoded(data)
    is_csv = (upload.name or "").lower().endswith(".csv")
    items: list[tuple[int, str]] = []
    problems = []
    limit = settings.TOXMON_BATCH_MAX_TEXTS
    for line, item in csv_items(text, column=column) if is_csv else txt_items(text):
        if len(items) == limit:
            raise ValidationError(
                "The file has more than %(limit)s texts (line %(line)s is text number "
                "%(count)s); split it into smaller files.",
                code="too_many",
                params={"limit": f"{limit:,}", "line": line, "count": f"{limit + 1:,}"},
            )
        try:
            validate_text(item)
        except ValidationError as error:
            problems.append(f"Line {line}: {' '.join(error.messages)}")
        items.append((line, item))
    if problems:
        more = len(problems) - MAX_REPORTED_PROBLEMS
        shown = problems[:MAX_REPORTED_PROBLEMS]
        if more > 0:
            shown.append(f"… and {more} more line(s) like these.")
        raise ValidationError(shown, code="texts")
    if not items:
        raise ValidationError(
            "The file has no texts: it is empty or every line is blank.", code="empty"
        )
    return items
