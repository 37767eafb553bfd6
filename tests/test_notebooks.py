"""Notebooks run top to bottom against the tests' own sample city (never the user's); an error fails, and the
exports a notebook writes land under WORKBENCH_HOME, not beside the notebook."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

NOTEBOOKS = sorted((Path(__file__).resolve().parent.parent / "notebooks").glob("*.ipynb"))


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs_and_is_stored_without_outputs(path, tmp_path, settings):
    notebook = nbformat.read(path, as_version=4)
    assert all(not cell.get("outputs") for cell in notebook.cells if cell.cell_type == "code")
    shutil.copy(path, tmp_path / path.name)
    started = time.time()
    NotebookClient(notebook, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}).execute()
    assert sorted(p.name for p in tmp_path.iterdir()) == [path.name]  # nothing written beside the notebook
    if ".export(" in path.read_text():  # each notebook ends with the export a case file needs
        exports = settings.home / "exports"
        assert [p for p in exports.rglob("*") if p.suffix in (".csv", ".html", ".geojson") and p.stat().st_mtime >= started]
