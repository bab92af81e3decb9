"""``figures``: every figure is written as PDF and PNG with data and provenance sidecars."""

from __future__ import annotations

import argparse
import json
import time

import pytest

from figures.build import FIGURES, SLOW_FIGURES, build_all
from srcnn import figures_cmd
from srcnn.cli import main

FAST = [name for name in FIGURES if name not in SLOW_FIGURES]

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    out = tmp_path_factory.mktemp("figures")
    start = time.perf_counter()
    paths = build_all(out, quick=True, seed=0, only=FAST)
    return out, paths, time.perf_counter() - start


def _assert_written(out, paths, names) -> None:
    for name in names:
        stem = f"fig_{name}"
        pdf, png, prov = out / f"{stem}.pdf", out / f"{stem}.png", out / f"{stem}.json"
        assert {pdf, png, prov} <= set(paths)
        assert pdf.read_bytes()[:5] == b"%PDF-" and pdf.stat().st_size > 1000
        assert png.read_bytes()[:8] == PNG_MAGIC and png.stat().st_size > 1000
        record = json.loads(prov.read_text())
        assert record["figure"] == stem and record["seed"] == 0
        assert {"python", "numpy", "torch", "matplotlib"} <= set(record["versions"])
        assert any(p.name.startswith(f"{stem}_data.") for p in paths)


def test_every_fast_figure_has_pdf_png_and_provenance(built):
    out, paths, seconds = built
    assert seconds < 120
    _assert_written(out, paths, FAST)


@pytest.mark.slow
@pytest.mark.parametrize("name", SLOW_FIGURES)
def test_slow_figure_has_pdf_png_and_provenance(tmp_path, name):
    """The SGD experiments' figures (minutes each in quick mode): run by make test-thorough."""
    paths = build_all(tmp_path, quick=True, seed=0, only=[name])
    _assert_written(tmp_path, paths, [name])


def test_spacetime_comparison_says_identical(built):
    out, _, _ = built
    data = json.loads((out / "fig_spacetime_data.json").read_text())
    cmp_ = data["comparison"]
    assert cmp_["identical"] is True and cmp_["first_difference"] is None
    assert cmp_["configurations_compared"] == 108  # bb4: steps 0..107
    assert data["reference"] == data["network"]
    prov = json.loads((out / "fig_spacetime.json").read_text())
    assert prov["results"]["comparison"]["identical"] is True


def test_parameters_are_constant_and_reach_1e12_nodes(built):
    out, _, _ = built
    data = json.loads((out / "fig_parameters_data.json").read_text())
    assert data["constant"] and data["measured_shared_parameters"] == [1317]
    assert data["largest_nodes"] >= 10**12


def test_precision_rows_and_offsets(built):
    out, _, _ = built
    data = json.loads((out / "fig_precision_data.json").read_text())
    assert {(r["s"], r["k"]) for r in data["rows"]} == {(s, k) for s in range(1, 33)
                                                         for k in (2, 3)}
    for k in ("2", "3"):
        assert data["offsets"][k]["c_max"] - data["offsets"][k]["c_min"] <= 3


def test_spacetime_refuses_to_plot_a_mismatch():
    from figures import fig_spacetime

    data = {"comparison": {"identical": False, "first_difference": 3}}
    with pytest.raises(fig_spacetime.Mismatch):
        fig_spacetime.plot(data)


def _parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="srcnn")
    sub = parser.add_subparsers(dest="command", required=True)
    figures_cmd.add_parser(sub)
    return parser.parse_args(argv)


def test_cli_only_one_figure(tmp_path, capsys):
    code = figures_cmd.run(_parse(["figures", "--out", str(tmp_path), "--only", "architecture"]))
    out, err = capsys.readouterr()
    assert code == 0
    assert "figure architecture" in err
    printed = out.split()
    assert str(tmp_path / "fig_architecture.png") in printed
    assert not (tmp_path / "fig_spacetime.png").exists()


def test_cli_unknown_figure_is_exit_2(tmp_path, capsys):
    code = main(["figures", "--out", str(tmp_path), "--only", "nope"])
    _, err = capsys.readouterr()
    assert code == 2
    assert err.startswith("srcnn figures: error: unknown figure 'nope'")
    assert err.count("\n") == 1


def test_cli_out_is_a_file_is_exit_2(tmp_path, capsys):
    target = tmp_path / "file"
    target.write_text("x")
    code = main(["figures", "--out", str(target)])
    _, err = capsys.readouterr()
    assert code == 2 and "not a directory" in err and err.count("\n") == 1


def test_every_fast_figure_has_a_caption(built):
    """Each caption says what is drawn, from which data, in provenance and in a .txt."""
    out, paths, _ = built
    for name in FAST:
        prov = json.loads((out / f"fig_{name}.json").read_text())
        text = (out / f"fig_{name}.caption.txt").read_text().strip()
        assert prov["caption"] == text and len(text) > 100, name
        assert out / f"fig_{name}.caption.txt" in paths
    memory = (out / "fig_memory.caption.txt").read_text()
    assert "random dataset" in memory and "y_a·x_a,1" in memory
    precision = json.loads((out / "fig_precision_data.json").read_text())
    assert precision["offsets"]["2"]["exact"] == {"form": "floor", "c": 8}
    assert "every point equals ⌊log₂ s⌋ + 8" in (out / "fig_precision.caption.txt").read_text()
    arch = json.loads((out / "fig_architecture_data.json").read_text())
    assert set(arch["z"]) <= {-1.0, 1.0} and arch["prediction"] in (-1, 1)
    cells = {round(3 * v) for row in arch["grid"] for v in row[:arch["d_in"]]}
    assert cells <= {-1, 1}  # the memory layer holds ±1/3 after Algorithm 1


def test_precision_exact_formula_is_only_claimed_when_true():
    from figures.fig_precision import exact_formula

    rows = [{"s": s, "bits": (s.bit_length() - 1) + 8} for s in range(1, 40)]
    assert exact_formula(rows) == {"form": "floor", "c": 8}
    rows[5]["bits"] += 1
    assert exact_formula(rows) is None


def test_trainable_shared_caption_and_plot_name_non_finite_drift():
    from figures import fig_trainable_shared as fts

    rows = []
    for net, L in (("majority", 21), ("memorisation", 8)):
        for eta, drift in ((0.0, 0.0), (1e-6, 3.0), (1e-2, float("inf"))):
            rows.append({"network": net, "eta_shared": eta, "survival_rate": float(eta == 0),
                         "drift_max_abs_max": drift, "frac_changed_mean": 0.5 * (eta > 0),
                         "layers": L, "shared_parameters": 100,
                         "test_close_agreement_mean": 1.0 if net == "majority" else None,
                         "test_sign_agreement_mean": 1.0, "test_exact_agreement_mean": 1.0})
    data = fts.summarise({"summary": rows, "settings": {"m": 3, "d": 3, "size": "quick"},
                          "seed": 0, "seeds": [0, 1, 2]})
    caption = fts.caption(data)
    assert "majority at η_shared = 1e-2" in caption and "inf or became NaN" in caption
    from figures import style

    with style.style():
        fig = fts.plot(data)
    labels = [t.get_text() for t in fig.axes[1].get_yticklabels()]
    assert labels[0] == "0 (no drift)" and labels[-1] == "not finite"
