"""Report folders per run: `--report-dir reports/{run}` puts each run's reports in a folder of its own,
named for its time and run id, and points `reports/latest` at the newest, so no run overwrites another.
"""
from __future__ import annotations

import os
import time
from pathlib import Path

RUN_PLACEHOLDER = "{run}"


def run_folder_name(run_id: str, when: float | None = None) -> str:
    """`20261202-031752-1a2b3c`: a run's report folder, sorting by time, unique by run id."""
    return time.strftime("%Y%m%d-%H%M%S", time.gmtime(when)) + f"-{run_id}"


def report_dir_for(template: str, run_id: str) -> tuple[Path, Path | None]:
    """(the run's report folder, the `latest` link beside it when the folder is `{run}`)."""
    name = run_folder_name(run_id)
    folder = Path(template.replace(RUN_PLACEHOLDER, name))
    latest = folder.parent / "latest" if Path(template).name == RUN_PLACEHOLDER else None
    return folder, latest


def point_latest(latest: Path, folder: Path) -> None:
    """`latest` -> the run's folder (a relative symbolic link, replaced atomically); where links are not
    possible, `latest.txt` holds the folder's name."""
    temp = latest.with_name(f".latest-{folder.name}")
    try:
        temp.unlink(missing_ok=True)
        temp.symlink_to(folder.name, target_is_directory=True)
        os.replace(temp, latest)
    except OSError:
        temp.unlink(missing_ok=True)
        latest.with_name("latest.txt").write_text(folder.name + "\n", encoding="utf-8")
