# Sourced by .ci/test, .ci/run and examples/demo.sh: make .venv and install
# the project (editable) with the extras named in $1 (default "test").
# `bash .ci/venv.sh docs` alone installs the docs extra.
#
# Installs only when something changed. .venv/install-stamp holds a hash of
# the packaging files and the extras installed with them; when the hash is the
# same and the extras asked for are already there, nothing runs, so a second
# `bash examples/demo.sh` prints no pip output at all.
extras="${1:-test}"
python=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$python" -m venv .venv
fi
stamp=.venv/install-stamp
packaging_hash="$(cat setup.cfg pyproject.toml | sha256sum | cut -d' ' -f1)"
installed_extras=""
if [ -f "$stamp" ] && [ "$(head -n1 "$stamp")" = "$packaging_hash" ]; then
  installed_extras="$(sed -n 2p "$stamp")"
fi
# Ask for the union, so alternating between the demo, the tests and CI does
# not reinstall.
wanted_extras="$(printf '%s\n' "${extras//,/$'\n'}" "${installed_extras//,/$'\n'}" \
  | sed "/^$/d" | LC_ALL=C sort -u | paste -sd, -)"
if [ "$wanted_extras" != "$installed_extras" ]; then
  .venv/bin/python -m pip install --quiet --disable-pip-version-check --upgrade pip
  .venv/bin/python -m pip install --quiet --disable-pip-version-check -e ".[$wanted_extras]"
  printf '%s\n%s\n' "$packaging_hash" "$wanted_extras" > "$stamp"
fi
