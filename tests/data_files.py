"""Read the lists in tests/data: CSV with # comment lines and \\uXXXX escapes for characters."""

import csv
import re
from pathlib import Path

DATA = Path(__file__).parent / "data"


def decoded(text: str) -> str:
    """Turn the data files' \\uXXXX and \\UXXXXXXXX escapes into the characters they name."""
    return re.sub(
        r"\\u([0-9a-fA-F]{4})|\\U([0-9a-fA-F]{8})",
        lambda match: chr(int(match.group(1) or match.group(2), 16)),
        text,
    )


def data_rows(name: str) -> list[dict[str, str]]:
    """Return the rows of tests/data/<name>, comments skipped and escapes decoded."""
    with (DATA / name).open(encoding="utf-8") as lines:
        return [
            {key: decoded(value) for key, value in row.items()}
            for row in csv.DictReader(line for line in lines if not line.startswith("#"))
        ]
