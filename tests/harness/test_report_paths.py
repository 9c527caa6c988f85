"""Report folders per run and the `latest` link (`--report-dir reports/{run}`)."""
from __future__ import annotations

import calendar
from pathlib import Path

from harness.report_paths import point_latest, report_dir_for, run_folder_name


def test_names_sort_by_time_and_differ_by_run_id() -> None:
    when = calendar.timegm((2026, 12, 2, 3, 17, 52, 0, 0, 0))
    assert run_folder_name("1a2b3c", when) == "20261202-031752-1a2b3c"
    folder, latest = report_dir_for("out/{run}", "1a2b3c")
    assert folder.parent == Path("out") and folder.name.endswith("-1a2b3c") and latest == Path("out/latest")
    assert report_dir_for("out/fixed", "x") == (Path("out/fixed"), None)  # used as given, no link
    folder, latest = report_dir_for("{run}/nested", "x")
    assert folder.name == "nested" and latest is None


def test_latest_points_at_the_newest_and_falls_back_to_a_file(tmp_path: Path) -> None:
    first, second = tmp_path / "20260101-000000-aaaaaa", tmp_path / "20260101-000001-bbbbbb"
    for folder in (first, second):
        folder.mkdir()
        point_latest(tmp_path / "latest", folder)
        assert (tmp_path / "latest").resolve() == folder.resolve()
    assert sorted(p.name for p in tmp_path.iterdir()) == [first.name, second.name, "latest"]
    blocked = tmp_path / "b"
    (blocked / "latest").mkdir(parents=True)  # a real folder named latest: no link over it
    point_latest(blocked / "latest", blocked / "run1")
    assert (blocked / "latest.txt").read_text() == "run1\n"
