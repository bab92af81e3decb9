"""The experiments' grids and ``srcnn verify --thorough`` through the sweep layer give the
same results as in this process (training/_common.run_grid, proofs_check/runner.py)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from proofs_check.runner import run_all, run_check
from training import learn_step as ls
from training import parity_baselines as pb
from training import trainable_shared as ts

TIMING = {"seconds", "train_seconds", "duration_s", "created"}


def _untimed(obj):
    if isinstance(obj, dict):
        return {k: _untimed(v) for k, v in obj.items() if k not in TIMING}
    if isinstance(obj, list):
        return [_untimed(v) for v in obj]
    return obj


def _both(monkeypatch, run):
    """``run()`` in this process, then on an embedded Dask cluster of one worker."""
    torch.set_num_threads(1)
    monkeypatch.setenv("SRCNN_SWEEP", "local")
    here = run()
    monkeypatch.setenv("SRCNN_SWEEP", "dask")
    monkeypatch.setenv("SRCNN_SWEEP_WORKERS", "1")
    return here, run()


def test_trainable_shared_grid_on_dask_equals_in_process(monkeypatch) -> None:
    settings = {"networks": ["memorisation"], "m": 2, "d": 2, "memorisation_layers": 4,
                "seeds": 2, "etas": [0.0, 1e-6], "dtype": "float64", "size": "test"}
    a, b = _both(monkeypatch, lambda: ts.run(dict(settings), 3, None))
    assert len(a["runs"]) == 4 and _untimed(a["runs"]) == _untimed(b["runs"])


def test_parity_grid_on_dask_equals_in_process(monkeypatch) -> None:
    s = pb.settings_for(True)
    s.update({"dims": [4], "ks": "1,d", "m_factors": [1, 8], "seeds": 2, "steps": 5,
              "learners": ["reference", "mlp"]})
    a, b = _both(monkeypatch, lambda: pb.run(dict(s), 3, None))
    assert len(a["rows"]) == 16 and _untimed(a["rows"]) == _untimed(b["rows"])


def test_learn_step_grid_on_dask_equals_in_process(monkeypatch) -> None:
    s = ls.settings_for(True, tasks=["eca_110"], seeds=2, steps=20, mults=[1])
    s.update({"rollout_runs": 2, "rollout_steps": [5], "sigmas": [0.0], "draws": 1,
              "dtypes": ["float32"]})
    a, b = _both(monkeypatch, lambda: ls.run(s, 5, None))
    assert len(a["width_sweep"]) == 2
    assert _untimed(a["width_sweep"]) == _untimed(b["width_sweep"])


def test_a_journaled_grid_resumes_without_redoing_points(tmp_path, monkeypatch) -> None:
    from training._common import run_grid

    monkeypatch.setenv("SRCNN_SWEEP", "local")
    monkeypatch.setenv("SRCNN_SWEEP_JOURNAL", str(tmp_path))
    calls: list[int] = []

    def point(p: int, stop_at: int | None = None):
        if p == stop_at:
            raise KeyboardInterrupt  # as if Ctrl-C hit during point 3
        calls.append(p)
        return {"p": p, "w": np.arange(3.0) / (p + 1)}

    settings = {"size": "full", "lr": 0.1}
    with pytest.raises(KeyboardInterrupt):
        run_grid(lambda p: point(p, 3), list(range(6)), settings, "toy grid")
    assert calls == [0, 1, 2] and (tmp_path / "toy_grid.grid.jsonl.partial").exists()
    got = run_grid(point, list(range(6)), settings, "toy grid")
    assert calls == [0, 1, 2, 3, 4, 5]  # 0..2 came from the journal
    assert [g["p"] for g in got] == list(range(6))
    np.testing.assert_array_equal(got[5]["w"], np.arange(3.0) / 6)  # arrays come back exact
    assert run_grid(point, list(range(6)), settings, "toy grid")[2]["p"] == 2
    assert calls == [0, 1, 2, 3, 4, 5]  # complete: nothing runs again
    with pytest.raises(Exception, match="other parameters"):
        run_grid(point, list(range(6)), {**settings, "lr": 0.2}, "toy grid")


@pytest.mark.parametrize("ids", [["def5-shared-parameters", "thm1-weight-set"]])
def test_verify_thorough_runs_the_checks_on_the_sweep_layer(ids) -> None:
    report = run_all("thorough", 0, only=ids, progress=False, workers=1)
    assert [c["id"] for c in report["claims"]] == ids
    assert report["executor"] == {"scheduler": "embedded", "workers": 1}
    assert _untimed(report["claims"]) == _untimed([run_check(i, "thorough", 0) for i in ids])
    assert all(c["status"] == "pass" for c in report["claims"])
