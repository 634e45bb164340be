#!/usr/bin/env bash
# Install drg (into the active venv, else ./.venv) and run the demo: the whole product on a
# synthetic region. Afterwards `. .venv/bin/activate` puts `drg` on the PATH.
set -eu
cd "$(dirname "$0")/.."
. scripts/venv.sh
"$PY" -m pip install -q .
"$PY" -m drg.cli demo "$@"
