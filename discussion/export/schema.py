"""docs/export-schema.json, generated from the archive's models (discussion/rules/archive.py).

    python -m discussion.export.schema docs/export-schema.json    # write it
    python -m discussion.export.schema                            # print it

tests/test_export.py fails when the committed file differs from what this writes.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from ..rules.archive import SCHEMA, SCHEMA_VERSION, SUPPORTED_VERSIONS, Archive

DESCRIPTION = (
    "The JSON archive written by `flask export CODE --format json` and "
    "GET /e/<code>/export.json, restored by `flask import FILE`. Anonymised: no participant "
    "identifier; a name only on posts quoted 'named' that are not hidden. Text fields follow "
    "the same rule as the API: trimmed, NFC, no control characters or bidi overrides, "
    "lengths counted in grapheme clusters (the JSON Schema's maxLength counts code points, "
    "so it is a first check only). See docs/export.md for the digest, the references "
    "checked on import and the anonymisation rules."
)


def archive_schema() -> dict[str, Any]:
    """The archive's JSON Schema (2020-12), with its identity and description."""
    generated = Archive.model_json_schema(by_alias=True)
    generated.pop("title", None)
    generated.pop("description", None)
    versions = ", ".join(str(v) for v in SUPPORTED_VERSIONS)
    generated["properties"]["schema_version"]["description"] = (
        f"Bumped on any change an older reader could not read. Exports write "
        f"{SCHEMA_VERSION}; `flask import` reads {versions} (version 1 lacks event.timezone, "
        "figures.merged_questions and the log's reason_code, which then take their defaults)."
    )
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": f"urn:discussion:{SCHEMA}:{SCHEMA_VERSION}",
        "title": f"Discussion archive, schema version {SCHEMA_VERSION}",
        "description": DESCRIPTION,
        **generated,
    }


def schema_text() -> str:
    """The schema as committed: indented, UTF-8 as is, a final newline."""
    return json.dumps(archive_schema(), indent=2, ensure_ascii=False) + "\n"


def main(argv: list[str]) -> None:
    text = schema_text()
    if argv:
        Path(argv[0]).write_text(text, "utf-8")
    else:
        sys.stdout.write(text)


if __name__ == "__main__":
    main(sys.argv[1:])
