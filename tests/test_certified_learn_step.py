"""The learn-one-step experiment certifies every trained net, and its figure shows the
verdict, every width and full bar axes (training/learn_step*.py, figures/fig_learn_step.py)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from training import learn_step as ls


@pytest.fixture(scope="module")
def record(tmp_path_factory):
    settings = ls.settings_for(True, tasks=["eca_30"], mults=[1, 2, 3], seeds=1, steps=60,
                               rollout_steps=[1, 5, 10], sigmas=[0.0, 0.1], draws=1,
                               rollout_runs=2)
    out = tmp_path_factory.mktemp("ls")
    return ls.run(settings, seed=0, out=out), out


def test_every_trained_net_gets_a_certificate_verdict(record) -> None:
    rec, _ = record
    task = rec["tasks"]["eca_30"]
    assert task["construction_certificate"]["certified"]
    for row in rec["width_sweep"]:
        assert row["cert_views"] == 512
        if not row["certified"]:
            assert row["cert_computed"] != row["cert_expected"] and row["cert_view"]
    assert set(task["certified_rate"]) == {"1", "2", "3"}


def test_a_certified_net_is_exact_bit_for_bit() -> None:
    """The certificate's verdict on a net equals a direct float32 check of every view."""
    settings = ls.settings_for(True, tasks=["eca_110"])
    task = ls.make_task("eca_110", settings, 0)
    arrays = {k: v.astype(np.float32).astype(np.float64) for k, v in task.construction.items()}
    assert ls.certify_trained(task, arrays)["certified"]
    arrays["b3"] = arrays["b3"] + 2.0**-12
    verdict = ls.certify_trained(task, arrays)
    assert not verdict["certified"] and verdict["cert_computed"] - verdict["cert_expected"] \
        == 2.0**-12


def test_the_figure_shows_every_width_full_axes_and_a_caption(record) -> None:
    pytest.importorskip("matplotlib")
    from figures import fig_learn_step as fig

    rec, out = record
    data = fig.summarise(rec)
    nets = data["tasks"]["eca_30"]["nets"]
    assert nets == ["construction", "sgd_x1", "sgd_x2", "sgd_x3"]  # no width left out
    canvas = fig.plot(data)
    for ax in canvas.axes:
        if ax.get_title().startswith("(d)"):
            assert ax.get_ylim()[0] == 0.0
    files = fig.style.publish(out, fig.NAME, fig.plot, data, seed=0,
                              params={"caption": fig.CAPTION}, results={}, files=[])
    prov = json.loads(next(f for f in files if f.name == f"{fig.NAME}.json").read_text())
    assert "certified exact bit for bit" in prov["params"]["caption"]
    assert "width_sweep.csv" in prov["params"]["caption"]
