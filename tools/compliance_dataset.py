"""Print the cipher-suite sets of scanner/grading/compliance/profiles.toml from the stfbk tls-compliance-dataset.

The dataset (https://github.com/stfbk/tls-compliance-dataset, CC BY 4.0) has one markdown table per kind of
configurable element and one column per guideline and profile. This script reads its `markdown/Cipher Suites.md`
and prints, per agency, the IANA names at each requirement level, as TOML arrays to paste into profiles.toml.
The shipped TOML file is what the product reads; this script only documents how its suite lists were derived.

    python tools/compliance_dataset.py path/to/tls-compliance-dataset
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

# (set name, column index in "Cipher Suites.md", levels kept)
COLUMNS = (
    ("nist_allowed", 2, {"optional", "must", "recommended"}),
    ("nist_not_recommended", 2, {"not recommended"}),
    ("bsi_recommended", 7, {"recommended", "must"}),
    ("anssi_recommended", 12, {"recommended"}),
    ("anssi_not_recommended", 12, {"not recommended"}),
)
FOOTNOTE = re.compile(r"\s*\[\^\d+\]")


def table_rows(path: Path) -> list[list[str]]:
    lines = [line for line in path.read_text(encoding="utf-8").splitlines() if line.strip().startswith("|")]
    rows = []
    for line in lines[2:]:  # header and alignment rows
        cells = [FOOTNOTE.sub("", cell.strip()) for cell in line.strip().strip("|").split("|")]
        rows.append(cells)
    return rows


def suite_sets(dataset: Path) -> dict[str, list[str]]:
    rows = table_rows(dataset / "markdown" / "Cipher Suites.md")
    sets: dict[str, list[str]] = {}
    for name, column, levels in COLUMNS:
        # "must nots" is a typo in one row of the dataset; a suite named TLS_FALLBACK_SCSV is a signal, not a suite.
        sets[name] = [
            row[0]
            for row in rows
            if len(row) > column
            and row[column].strip() in levels
            and row[0].startswith("TLS_")
            and row[0] != "TLS_FALLBACK_SCSV"
        ]
    return sets


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    for name, suites in suite_sets(Path(argv[1])).items():
        print(f"{name} = [")
        for suite in suites:
            print(f'  "{suite}",')
        print("]")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
