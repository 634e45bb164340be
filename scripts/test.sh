#!/usr/bin/env bash
# Install everything the tests need and run them:
#   - Debian's headless Chromium + ChromeDriver for the report's browser test (needs root; skipped with a note otherwise)
#   - the package with its test extra (pytest, pytest-xdist, Hypothesis, pytest-benchmark, Dask, Selenium),
#     into the active venv, else ./.venv (see scripts/venv.sh; PEP 668 systems need one)
set -u
cd "$(dirname "$0")/.."
. scripts/venv.sh
if ! command -v chromium >/dev/null 2>&1 || ! command -v chromedriver >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver) >/dev/null 2>&1 \
      || echo "note: could not install chromium/chromium-driver; the browser test will be skipped" >&2
  else
    echo "note: chromium/chromium-driver missing and apt-get needs root; the browser test will be skipped" >&2
  fi
fi
# -n auto: test files run side by side on every core (pytest-xdist), each file's tests in one worker (loadfile),
# so a module's expensive fixtures are built once
"$PY" -m pip install -q -e '.[test]' && "$PY" -m pytest -n auto --maxprocesses 4 --dist loadfile "$@"
