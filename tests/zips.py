"""Zip archives built in memory for tests (a plain module, not conftest: pytest loads several
conftest modules, and `from conftest import` may find another one)."""
from __future__ import annotations

import io
import zipfile


def zip_of(members: dict[str, bytes], compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    """A zip archive of the given members, in memory."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=compression) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()
