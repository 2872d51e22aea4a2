#!/usr/bin/env bash
# Installs schemathesis (the outside fuzzer of the REST API) into a scratch virtualenv,
# target/fuzz-venv, from PyPI. Idempotent: does nothing when that version is there.
set -euo pipefail
cd "$(dirname "$0")/.."
VERSION=4.32.5
venv=target/fuzz-venv
if [ -x "$venv/bin/schemathesis" ] && "$venv/bin/pip" show schemathesis 2>/dev/null | grep -qx "Version: $VERSION"; then
  exit 0
fi
echo "installing schemathesis $VERSION into $venv (PyPI, under a minute)" >&2
python3 -m venv "$venv"
"$venv/bin/pip" install --quiet --disable-pip-version-check "schemathesis==$VERSION"
