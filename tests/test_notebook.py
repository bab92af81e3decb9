"""The notebooks in docs/notebooks/ run from top to bottom (every cell asserts what it shows).

Executed with nbclient and an IPython kernel from the ``notebook`` extra (``make test``
installs it). Without those packages the test is skipped with the reason printed by
pytest's ``-ra`` summary.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

NOTEBOOKS = sorted((Path(__file__).resolve().parents[1] / "docs" / "notebooks").glob("*.ipynb"))


def test_there_is_a_notebook():
    assert [p.name for p in NOTEBOOKS] == ["bb2_end_to_end.ipynb"]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_notebook_runs(path, tmp_path):
    nbformat = pytest.importorskip("nbformat", reason="the notebook extra is not installed "
                                   "(pip install -e '.[notebook]')")
    nbclient = pytest.importorskip("nbclient", reason="the notebook extra is not installed "
                                   "(pip install -e '.[notebook]')")
    pytest.importorskip("ipykernel", reason="no IPython kernel (pip install -e '.[notebook]')")
    nb = nbformat.read(path, as_version=4)
    assert all(not c.get("outputs") for c in nb.cells if c.cell_type == "code"), \
        "commit notebooks without outputs; CI executes them"
    start = time.perf_counter()
    client = nbclient.NotebookClient(nb, timeout=600, kernel_name="python3",
                                     resources={"metadata": {"path": str(tmp_path)}})
    client.execute()
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    assert not [o for o in outputs if o.get("output_type") == "error"]
    print(f"{path.name}: {len(nb.cells)} cells in {time.perf_counter() - start:.1f} s")
