#!/usr/bin/env bash
# Runs one of the comparison scripts of bench/xplique/ in a virtual
# environment holding xplique 2.0.2 and TensorFlow (CPU), made on first use
# in ${CUXPLAIN_XPLIQUE_VENV:-.venv-xplique} at the repository root.
#
#   bench/xplique/run.sh compare_hsic.py [args...]
#   bench/xplique/run.sh compare_craft.py [args...]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
venv=${CUXPLAIN_XPLIQUE_VENV:-$root/.venv-xplique}
if [[ ! -x $venv/bin/python ]]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q -r "$here/requirements.txt"
fi
script=$1
shift
exec "$venv/bin/python" "$here/$script" "$@"
