#!/usr/bin/env bash
# The README's demo command: install the project in .venv and run the demo.
# Arguments go to examples/demo.py (for instance --exit-after-tour).
set -euo pipefail
cd "$(dirname "$0")/.."
source .ci/venv.sh demo
exec .venv/bin/python examples/demo.py "$@"
