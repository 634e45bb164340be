# Sourced by demo.sh and test.sh: choose the Python to install into.
# Inside an active virtual environment (or conda env) that one is used; otherwise ./.venv is
# made and used, because Debian/Ubuntu's system Python refuses `pip install` (PEP 668).
if [ -n "${VIRTUAL_ENV:-}" ] || [ -n "${CONDA_PREFIX:-}" ]; then
  PY=python
else
  if [ ! -x .venv/bin/python ]; then
    if ! python3 -m venv .venv >/dev/null 2>&1; then
      rm -rf .venv
      if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        echo "note: installing python3-venv (needed to make ./.venv)" >&2
        (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv) >/dev/null 2>&1
      fi
      python3 -m venv .venv || { echo "error: cannot make ./.venv; install python3-venv (apt install python3-venv) and run again" >&2; exit 1; }
    fi
  fi
  PY=.venv/bin/python
fi
"$PY" -m pip install -q --upgrade pip >/dev/null 2>&1 || true
