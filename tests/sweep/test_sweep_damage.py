"""A damaged output folder is named, not trusted: a corrupt or truncated run file is reported by
name and run again on resume, ``report`` says which file is bad, and a missing or corrupt
manifest is rebuilt from the run files only when asked to."""

from __future__ import annotations

import json
import logging

import pandas as pd
import pyarrow.parquet as pq
import pytest

from tests.sweep.sweep_helpers import GRID, manifest, write_sweep
from vcm_sim.cli import main
from vcm_sim.sweep import SweepError, load_runs, load_series, sweep
from vcm_sim.sweep import store as store_module

PART = "run-0000003.parquet"


def _rows(out):
    return load_runs(out).drop(columns="duration_s")


@pytest.fixture
def finished(tmp_path):
    """A finished 8-run sweep keeping its series, and its rows."""
    path = write_sweep(tmp_path, GRID, keys='series = ["price_usd"]\n')
    out = tmp_path / "o"
    sweep(path, workers=1, out=out, progress=False)
    return path, out, _rows(out)


def _truncate(file, keep=0.5):
    data = file.read_bytes()
    file.write_bytes(data[:int(len(data) * keep)])


@pytest.mark.parametrize("damage", ["garbage part", "truncated part", "truncated series",
                                    "short series", "missing series"])
def test_a_damaged_run_is_named_and_run_again_on_resume(finished, caplog, damage):
    path, out, rows = finished
    part, series = out / "parts" / PART, out / "series" / PART
    if damage == "garbage part":
        part.write_bytes(b"not a parquet file")
    elif damage == "truncated part":
        _truncate(part)
    elif damage == "truncated series":
        _truncate(series)
    elif damage == "short series":  # a whole Parquet file with rows missing
        pq.write_table(pq.read_table(series).slice(0, 10), series)
    else:
        series.unlink()
    named = f"{'parts' if 'part' in damage else 'series'}/{PART}"
    with caplog.at_level(logging.WARNING, logger="vcm_sim.sweep"):
        again = sweep(path, workers=1, out=out, resume=True, progress=False)
    assert named in caplog.text and "will be run again" in caplog.text
    assert again.ran == 1 and again.skipped == 7
    pd.testing.assert_frame_equal(_rows(out), rows)
    assert load_series(out).groupby("run_id").size().tolist() == [24] * 8
    record = manifest(out)
    assert record["status"] == "finished" and record["sessions"][-1]["rerun_damaged"][0] \
        .startswith(named)


def test_the_report_of_a_folder_with_a_corrupt_part_names_it(finished, capsys):
    _, out, _ = finished
    _truncate(out / "parts" / PART)
    assert main(["report", str(out)]) == 2
    err = capsys.readouterr().err
    assert f"parts/{PART}: unreadable" in err and "--resume" in err
    assert err.count("\n") == 1 and not (out / "report").exists()


def test_a_run_file_is_flushed_to_disk_before_it_is_renamed_into_place(tmp_path, monkeypatch):
    calls = []
    real_fsync, real_replace = store_module.os.fsync, store_module.os.replace
    monkeypatch.setattr(store_module.os, "fsync",
                        lambda fd: calls.append("fsync") or real_fsync(fd))
    monkeypatch.setattr(store_module.os, "replace",
                        lambda a, b: calls.append("replace") or real_replace(a, b))
    store = store_module.RunStore(tmp_path)
    store.parts.mkdir()
    store.write_run({"run_id": 0, "point": 0, "replication": 0, "root_seed": 1, "status": "ok"})
    # the file's data, then the rename, then the folder entry
    assert calls == ["fsync", "replace", "fsync"]


def test_without_its_manifest_a_folder_says_how_to_rebuild_it(finished, capsys):
    path, out, _ = finished
    (out / "manifest.json").unlink()
    args = ["sweep", str(path), "--workers", "1", "--out", str(out), "--no-progress"]
    assert main(args) == 2
    assert "already holds a sweep's results; pass --resume" in capsys.readouterr().err
    assert main(args + ["--resume"]) == 2
    err = capsys.readouterr().err
    assert "holds run files but no manifest.json: rebuild it from the run files by resuming " \
           "with --rebuild-manifest" in err
    assert main(["report", str(out)]) == 2
    assert "--rebuild-manifest" in capsys.readouterr().err
    assert not (out / "manifest.json").exists()


@pytest.mark.parametrize("manifest_text", [None, b"{\"name\": \"tin", b"\xff\xfe garbage", b"[]"])
def test_a_missing_or_corrupt_manifest_is_rebuilt_from_the_run_files_on_request(
        finished, capsys, manifest_text):
    path, out, rows = finished
    if manifest_text is None:
        (out / "manifest.json").unlink()
    else:
        (out / "manifest.json").write_bytes(manifest_text)
        assert main(["report", str(out)]) == 2
        err = capsys.readouterr().err
        assert "manifest.json is damaged" in err and err.count("\n") == 1
    (out / "parts" / "run-0000006.parquet").unlink()
    assert main(["sweep", str(path), "--workers", "1", "--out", str(out), "--resume",
                 "--rebuild-manifest", "--no-progress"]) == 0
    pd.testing.assert_frame_equal(_rows(out), rows)
    record = manifest(out)
    assert record["status"] == "finished" and "rebuilt" in record
    assert record["runs_done"] == 8 and record["sessions"][0]["ran"] == 1


def test_an_intact_manifest_is_not_rebuilt(finished):
    path, out, _ = finished
    with pytest.raises(SweepError, match="is intact: --rebuild-manifest only replaces"):
        sweep(path, workers=1, out=out, resume=True, rebuild_manifest=True, progress=False)


def test_a_manifest_is_not_rebuilt_from_another_sweeps_runs(finished, tmp_path):
    path, out, _ = finished
    (out / "manifest.json").unlink()
    other = write_sweep(tmp_path, GRID.replace("0.2, 0.8", "0.3, 0.8"),
                        keys='series = ["price_usd"]\n', file="other.toml")
    with pytest.raises(SweepError, match="sweep.toml differs from .*other.toml"):
        sweep(other, workers=1, out=out, resume=True, rebuild_manifest=True, progress=False)
    (out / "sweep.toml").unlink()
    with pytest.raises(SweepError, match=r"rows that .*other.toml does not plan: run 0 "
                                         r"\(rules.integrity.verification_rigour = 0.2, "
                                         r"planned 0.3\)"):
        sweep(other, workers=1, out=out, resume=True, rebuild_manifest=True, progress=False)
    assert not (out / "manifest.json").exists()


@pytest.mark.parametrize("field,value", [("sessions", 5), ("runs", "x"), ("runs", True),
                                         ("parameters", {}), ("status", 3)])
def test_a_manifest_with_a_field_of_the_wrong_type_is_damaged_not_a_traceback(
        finished, capsys, field, value):
    path, out, _ = finished
    data = manifest(out)
    data[field] = value
    (out / "manifest.json").write_text(json.dumps(data))
    assert main(["sweep", str(path), "--out", str(out), "--resume", "--no-progress"]) == 2
    assert main(["report", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.count("is damaged") == 2 and "--rebuild-manifest" in err and "Traceback" not in err


def test_a_sweep_refuses_a_folder_holding_other_files_and_overwrites_nothing(tmp_path, capsys):
    path = write_sweep(tmp_path, GRID)
    out = tmp_path / "notes"
    out.mkdir()
    (out / "sweep.toml").write_text("my notes\n")
    (out / "runs.parquet").write_text("my data\n")
    assert main(["sweep", str(path), "--out", str(out), "--no-progress"]) == 2
    assert "is not empty and holds no sweep" in capsys.readouterr().err
    assert (out / "sweep.toml").read_text() == "my notes\n"
    assert sorted(p.name for p in out.iterdir() if p.name != ".lock") == ["runs.parquet",
                                                                          "sweep.toml"]


def test_a_sweep_may_start_in_an_existing_empty_folder(tmp_path):
    path = write_sweep(tmp_path, GRID, replications=1, steps=3)
    out = tmp_path / "empty"
    out.mkdir()
    assert main(["sweep", str(path), "--out", str(out), "--no-progress"]) == 0
    assert len(load_runs(out)) == 4
