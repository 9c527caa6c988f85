"""The run's output files: the report directory checked before the run, every file written atomically.

A report directory that is a file, is not writable, or sits on a full disk is found before a single
request is sent (`check_report_dir`), not after a run of many minutes. Every report is written to a
temporary file in the same directory and renamed over its name once complete (`atomic_output`):
a disk that fills up midway leaves the previous report (or none), never a truncated one.
"""
from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import tempfile
from pathlib import Path
from typing import IO, Iterator

# Free space the report directory needs before a run starts (the reports of a default run take < 5 MiB).
MIN_FREE_BYTES = 16 * 1024 * 1024


class OutputError(Exception):
    """The report directory cannot take the reports (one line, for the CLI)."""


def check_report_dir(path: Path, min_free: int = MIN_FREE_BYTES) -> None:
    """Raise OutputError unless `path` is (or can be made) a writable directory with `min_free` bytes free."""
    if path.exists() and not path.is_dir():
        raise OutputError(f"--report-dir {path} is not a directory")
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"--report-dir {path} cannot be created: {exc.strerror or exc}") from None
    try:
        with tempfile.TemporaryFile(dir=path, prefix=".scim-harness-probe-"):
            pass
    except OSError as exc:
        raise OutputError(f"--report-dir {path} is not writable: {exc.strerror or exc}") from None
    free = shutil.disk_usage(path).free
    if free < min_free:
        raise OutputError(f"--report-dir {path} has {free // 1024} KiB free; the reports need at least "
                          f"{min_free // (1024 * 1024)} MiB")


@contextlib.contextmanager
def atomic_output(path: Path) -> Iterator[IO[str]]:
    """A text file to write `path` through: renamed over `path` when the block ends without an error,
    removed when it raises (ENOSPC included), so `path` is never left half-written."""
    temp = path.parent / f".{path.name}.{secrets.token_hex(4)}.tmp"
    try:
        with open(temp, "x", encoding="utf-8") as out:  # "x": the umask's mode, as the file it replaces
            yield out
            out.flush()
            os.fsync(out.fileno())
        os.replace(temp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise


def write_text_atomically(path: Path, text: str) -> Path:
    with atomic_output(path) as out:
        out.write(text)
    return path
