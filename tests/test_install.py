"""`pip install` outside the checkout works: the wheel carries its SQL, profiles, weights and map assets, and an
install in a clean virtualenv in a temporary folder brings up its own cluster in the user's data folder, loads
the sample city and answers an audited search, without reading anything of the checkout."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

SEARCH = textwrap.dedent("""
    import workbench, json
    from datetime import timedelta
    wb = workbench.connect(user="analyst_avery", password="avery-demo-2026")
    case = wb.open_case("261500101", "criminal_investigation",
                        "Shooting series: a witness saw part of the plate, 7 ? ? B 1 2")
    end = wb.sample_end()
    hits = case.search_plates("7??B12?", end - timedelta(days=60), end)
    print(json.dumps({"plates": sorted(set(hits.reads["plate"])), "home": str(wb.settings.home),
                      "package": workbench.__file__}))
""")


def _run(command: list[str], env: dict[str, str], cwd: Path, timeout: int) -> str:
    done = subprocess.run(command, env=env, cwd=cwd, capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, f"{' '.join(command)}:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done.stdout


@pytest.mark.slow
def test_the_wheel_installs_and_runs_outside_the_checkout(tmp_path):
    wheels = tmp_path / "wheels"
    _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(wheels), str(ROOT)], dict(os.environ),
         tmp_path, 600)
    wheel = next(wheels.glob("alpr_workbench-*.whl"))
    venv = tmp_path / "venv"
    _run([sys.executable, "-m", "venv", str(venv)], dict(os.environ), tmp_path, 120)
    python = venv / "bin" / "python"
    # A clean environment: nothing of the checkout's (no WORKBENCH_*, its own HOME, so its own data folder).
    env = {key: value for key, value in os.environ.items() if not key.startswith(("WORKBENCH_", "VIRTUAL_ENV"))}
    home = tmp_path / "home"
    home.mkdir()
    os.chmod(tmp_path, 0o755)
    os.chmod(home, 0o755)  # the private cluster runs as the postgres user when installed as root
    env.update(HOME=str(home), WORKBENCH_PG_PORT="55472", PATH=f"{venv / 'bin'}:{env.get('PATH', '')}")
    _run([str(python), "-m", "pip", "install", "-q", str(wheel)], env, tmp_path, 1500)
    _run([str(python), "-m", "pip", "install", "-q", "--no-deps", "fastanpr==0.1.13"], env, tmp_path, 300)
    workbench = str(venv / "bin" / "workbench")
    try:
        _run([workbench, "db", "up"], env, tmp_path, 600)
        _run([workbench, "sample", "load", "--reads", "20000"], env, tmp_path, 900)
        import json

        answer = json.loads(_run([str(python), "-c", SEARCH], env, tmp_path, 300).strip().splitlines()[-1])
    finally:
        subprocess.run([workbench, "db", "down"], env=env, cwd=tmp_path, capture_output=True, timeout=120)
    assert "7WXB124" in answer["plates"]
    assert answer["home"] == str(home / ".local" / "share" / "alpr-workbench")
    assert not answer["package"].startswith(str(ROOT))
