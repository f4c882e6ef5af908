"""file:// URIs ↔ filesystem paths (the application works with paths only)."""

from __future__ import annotations

from pathlib import Path

from pygls.uris import from_fs_path, to_fs_path


def uri_to_path(uri: str) -> Path | None:
    """The filesystem path of a file:// URI (None for other schemes or unusable URIs)."""
    if not uri.startswith("file:"):
        return None
    try:
        fs = to_fs_path(uri)
    except ValueError:
        return None
    if not fs or "\x00" in fs:
        return None
    return Path(fs)


def path_to_uri(path: Path) -> str:
    return from_fs_path(str(path)) or path.as_uri()
