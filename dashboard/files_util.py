"""Serving files of the output folder safely: only under the output root, no traversal, no symlink escape."""

from __future__ import annotations

from pathlib import Path

IMAGE_TYPES = {
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".png": "image/png",
    ".gif": "image/gif",
    ".webp": "image/webp",
    ".avif": "image/avif",
}


def resolve_under_root(root: str | Path, path: str | Path) -> Path | None:
    """The real path of `path` (absolute, or relative to root) if it lies inside root, else None."""
    root_path = Path(root).resolve()
    text = str(path)
    if not text or "\x00" in text:
        return None
    candidate = Path(text)
    if not candidate.is_absolute():
        if any(part == ".." for part in candidate.parts):
            return None
        candidate = root_path / candidate
    try:
        real = candidate.resolve(strict=False)
    except (OSError, RuntimeError):
        return None
    if real == root_path or not real.is_relative_to(root_path):
        return None
    return real
