"""A job's output files, read into its log as they grow."""
from __future__ import annotations

import os

from ..capture import MAX_LINE
from ..runtime import storable

READ_AT_MOST = 1 << 20  # bytes of a file read per poll while its job runs


def read_new(paths: tuple[str, str], positions: tuple[int, int],
             ended: bool) -> tuple[list[str], list[str], tuple[int, int]]:
    """(lines, their sources, new positions): what the stdout and stderr files `paths`
    hold past `positions`, whole lines only while the job runs, everything once it has
    ended (up to 64 MiB a file; a line then says how much more the file holds)."""
    lines: list[str] = []
    sources: list[str] = []
    moved = []
    for path, pos, source in zip(paths, positions, ("stdout:INFO", "stderr:ERROR")):
        try:
            with open(path, "rb") as f:
                f.seek(pos)
                data = f.read(READ_AT_MOST * (64 if ended else 1))
                rest = os.fstat(f.fileno()).st_size - pos - len(data)
        except OSError:     # not written yet, or on a disk this host does not see
            moved.append(pos)
            continue
        if not ended and len(data) < READ_AT_MOST:
            data = data[:data.rfind(b"\n") + 1]
        moved.append(pos + len(data))
        for line in data.decode("utf-8", "replace").splitlines():
            lines.append(storable(line[:MAX_LINE]))
            sources.append(source)
        if ended and rest > 0:
            lines.append(f"… [{rest} more bytes in {path}]")
            sources.append(source)
    return lines, sources, (moved[0], moved[1])
