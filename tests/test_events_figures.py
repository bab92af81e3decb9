"""The events figures: the parity-cost figure's fit and drawing, the parity curves' legend."""

from __future__ import annotations

import numpy as np

from figures import fig_parity, fig_parity_cost, style


def test_fitted_degree_recovers_a_power_law():
    ds = [4, 8, 16, 32]
    assert abs(fig_parity_cost.fitted_degree(ds, [d**3 for d in ds]) - 3) < 1e-9
    assert abs(fig_parity_cost.fitted_degree(ds, [5 * d**1.5 for d in ds]) - 1.5) < 1e-9
    assert fig_parity_cost.fitted_degree([4], [1.0]) is None


def test_parity_cost_figure_measures_and_draws(tmp_path, monkeypatch):
    """The quick figure at two small d: predictions checked, counts and degrees written."""
    monkeypatch.setattr(fig_parity_cost, "rows_for", lambda quick, seed: (
        [fig_parity_cost.measure(d, 2 * d, 2, seed=seed) for d in (2, 3)]
        + [fig_parity_cost.measure(2, 4, 2, "dense", seed)], "test"))
    paths = fig_parity_cost.make(tmp_path, quick=True, seed=0)
    assert (tmp_path / "fig_parity_cost.png") in paths
    import json

    data = json.loads((tmp_path / "fig_parity_cost_data.json").read_text())
    rows = data["rows"]
    assert [r["d"] for r in rows] == [2, 3] and all(r["correct"] for r in rows)
    assert all(r["patch_evaluations"] < r["dense_cell_updates"] for r in rows)
    assert data["degrees"]["layers"] is not None
    assert [r["d"] for r in data["dense"]] == [2]
    assert data["dense"][0]["layers"] == rows[0]["layers"]
    caption = (tmp_path / "fig_parity_cost.caption.txt").read_text()
    assert "for each d in [2, 3]" in caption and "dense executor at d = [2]" in caption
    assert json.loads((tmp_path / "fig_parity_cost.json").read_text())["caption"] == \
        caption.strip()


def test_parity_legend_lists_a_learner_drawn_in_one_panel_only():
    """The construction drawn in the second panel only still has its legend entry, and it
    is drawn above the reference (which it coincides with)."""
    summary = []
    for k in (2, 4):
        for m in (2, 4, 8):
            summary.append({"learner": "reference", "d": 4, "k": k, "m": m, "n": 3,
                            "mean": 0.25, "std": 0.0, "min": 0.25, "max": 0.25})
            if k == 4:
                summary.append({"learner": "rcnn", "d": 4, "k": k, "m": m, "n": 3,
                                "mean": 0.25, "std": 0.0, "min": 0.25, "max": 0.25})
    data = {"summary": summary, "seeds": [0, 1, 2], "settings": {"size": "quick"}}
    with style.style():
        fig = fig_parity.plot(data)
    labels = [t.get_text() for lg in fig.legends for t in lg.get_texts()]
    assert fig_parity.STYLE["rcnn"]["label"] in labels
    assert fig_parity.STYLE["reference"]["label"] in labels
    ax = fig.axes[1]
    rcnn = [ln for ln in ax.get_lines() if ln.get_label() == fig_parity.STYLE["rcnn"]["label"]]
    ref = [ln for ln in ax.get_lines()
           if ln.get_label() == fig_parity.STYLE["reference"]["label"]]
    assert rcnn[0].get_zorder() > ref[0].get_zorder()
    assert rcnn[0].get_markersize() > ref[0].get_markersize()
    assert np.array_equal(rcnn[0].get_ydata(), ref[0].get_ydata())
    caption = fig_parity.caption({**data, "test_set": "all 2^d points", "seed": 0,
                                  "settings": {"size": "quick", "rcnn_test_points": 4}})
    assert "at 3 (d, k, m) points, on 4 seeded test points each" in caption
    assert "learners reference, rcnn" in caption and "d in [4]" in caption
