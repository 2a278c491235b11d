"""Fingerprinted static files: ``url_for('static', ...)`` adds ``?v=<content hash>``.

A request that carries the file's current hash is answered with a year-long immutable
cache lifetime: a phone that joined once loads the page's scripts and styles from its
own cache. Any other request (no ``v``, or a stale one) keeps the short default. ES
modules import each other by relative URL; their import specifiers are rewritten as
they are served so that ``import './lib.js'`` fetches the same fingerprinted URL.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flask import Flask, Request, Response, current_app, request

IMMUTABLE = "public, max-age=31536000, immutable"
# `from './x.js'`, `import './x.js'` and `import('./x.js')`, with either quote.
_IMPORT = re.compile(r"""(\bfrom\s*|\bimport\s*\(?\s*)(["'])(\./[\w./-]+\.js)\2""")


@dataclass(frozen=True, slots=True)
class _Entry:
    mtime: float
    data: bytes
    version: str
    deps: dict[str, str]  # imported file -> the version this one was rewritten with


class Assets:
    """Content hashes of the files under one static folder, kept until a file changes."""

    def __init__(self, folder: str) -> None:
        self.folder = Path(folder).resolve()
        self._cache: dict[str, _Entry] = {}

    def _path(self, filename: str) -> Path | None:
        path = (self.folder / filename).resolve()
        if self.folder not in path.parents or not path.is_file():
            return None
        return path

    def body(self, filename: str) -> bytes | None:
        """The bytes served for a file (a module's imports pointing at fingerprints)."""
        entry = self._entry(filename)
        return entry.data if entry else None

    def version(self, filename: str) -> str | None:
        """The first 12 hex digits of the SHA-256 of what is served, or None."""
        entry = self._entry(filename)
        return entry.version if entry else None

    def _entry(self, filename: str, depth: int = 0) -> _Entry | None:
        path = self._path(filename)
        if path is None:
            return None
        mtime = path.stat().st_mtime
        hit = self._cache.get(filename)
        if (
            hit is not None
            and hit.mtime == mtime
            and all(self.version(dep) == seen for dep, seen in hit.deps.items())
        ):
            return hit
        data = path.read_bytes()
        deps: dict[str, str] = {}
        if filename.endswith(".js") and depth < 5:
            data, deps = self._link_imports(filename, data, depth)
        entry = _Entry(mtime, data, hashlib.sha256(data).hexdigest()[:12], deps)
        self._cache[filename] = entry
        return entry

    def _link_imports(self, filename: str, data: bytes, depth: int) -> tuple[bytes, dict[str, str]]:
        base = Path(filename).parent
        deps: dict[str, str] = {}

        def link(match: re.Match[str]) -> str:
            target = (base / match.group(3)).as_posix()
            entry = self._entry(target, depth + 1)
            if entry is None:
                return match.group(0)
            deps[target] = entry.version
            quote = match.group(2)
            return f"{match.group(1)}{quote}{match.group(3)}?v={entry.version}{quote}"

        text = _IMPORT.sub(link, data.decode("utf-8"))
        return text.encode("utf-8"), deps


def static_url_values(app: Flask, values: dict[str, Any]) -> None:
    """Add the fingerprint to a static URL built for a page (not to external links,
    such as the stylesheet a downloaded report points at)."""
    filename = values.get("filename")
    if filename and "v" not in values:
        version = app.extensions["assets"].version(str(filename))
        if version:
            values["v"] = version


def serve(app: Flask, filename: str, response: Response) -> Response:
    """Serve a module's rewritten bytes, and cache fingerprinted files for good."""
    assets: Assets = app.extensions["assets"]
    if filename.endswith(".js"):
        body = assets.body(filename)
        if body is not None:
            response.set_data(body)
            response.set_etag(hashlib.sha256(body).hexdigest()[:32])
    version = request.args.get("v")
    if version and version == assets.version(filename):
        response.headers["Cache-Control"] = IMMUTABLE
    return response


def compress_cache_key(req: Request) -> str:
    """Flask-Compress's cache key: a static file's path and its current hash, so a
    changed file is never answered with the compressed bytes of its former self."""
    path = req.path
    if path.startswith("/static/"):
        return f"{path}?{current_app.extensions['assets'].version(path[len('/static/') :])}"
    return path


def init_app(app: Flask) -> None:
    """Keep the hashes of the app's static folder on the app."""
    app.extensions["assets"] = Assets(app.static_folder or "static")
