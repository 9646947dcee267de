#!/usr/bin/env bash
# Set up ccc for the composite actions: a venv under the runner's tool cache, built once per
# (ccc version, Python version, content hash of the lock file and sources) from hash-pinned requirements.
# Self-hosted runners keep their tool cache, so only the first run on a machine pays for the install.
# Writes the venv's interpreter as the step output `python`.
set -euo pipefail

die() {
  echo "::error title=ccc setup::$*"
  exit 1
}
trap 'die "setting up ccc failed at ${BASH_SOURCE[0]}:${LINENO} (see the log above)"' ERR

ROOT="$(cd "${GITHUB_ACTION_PATH:?run this from an action step}/.." && pwd)"
PYTHON="${CCC_SETUP_PYTHON:-python3}"

command -v "${PYTHON}" >/dev/null ||
  die "no ${PYTHON} on PATH: install Python 3.10 or newer on the runner (or run actions/setup-python first)"
"${PYTHON}" -c 'import sys; sys.exit(sys.version_info < (3, 10))' ||
  die "$("${PYTHON}" -V 2>&1) is too old: ccc needs Python 3.10 or newer (run actions/setup-python first)"
PYTHON="$(command -v "${PYTHON}")" # the venv is built on exactly this interpreter

# The venv depends on exactly these files: a change to any of them gets a new venv.
# Python rather than sha256sum, which macOS runners lack.
content_hash() {
  "${PYTHON}" - "${ROOT}" <<'PY'
import hashlib, pathlib, sys
root = pathlib.Path(sys.argv[1])
files = [root / "requirements.lock", root / "pyproject.toml", *(root / "src" / "ccc").rglob("*")]
digest = hashlib.sha256()
for path in sorted(p for p in files if p.is_file() and p.suffix != ".pyc"):
    digest.update(path.relative_to(root).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
print(digest.hexdigest()[:16])
PY
}

version="$(sed -n 's/^__version__ = "\(.*\)"/\1/p' "${ROOT}/src/ccc/__init__.py")"
py_version="$("${PYTHON}" -c 'import sys; print("py%d.%d" % sys.version_info[:2])')"
cache_root="${RUNNER_TOOL_CACHE:-${XDG_CACHE_HOME:-${HOME}/.cache}}/ccc"
venv="${cache_root}/${version}-${py_version}-$(content_hash)"

# uv when the runner has it (seconds), else venv + pip (a minute).
install_requirements() {
  if command -v uv >/dev/null; then
    UV_PYTHON_DOWNLOADS=never uv venv --quiet --python "${PYTHON}" "$1"
    # Bytecode now, once: a runner with PYTHONDONTWRITEBYTECODE would otherwise compile PyGithub on every poll.
    uv pip install --quiet --python "$1/bin/python" --require-hashes --compile-bytecode -r "${ROOT}/requirements.lock"
  else
    "${PYTHON}" -m venv "$1"
    "$1/bin/python" -m pip install --quiet --disable-pip-version-check --require-hashes -r "${ROOT}/requirements.lock"
  fi
}

build_venv() {
  local partial site_packages
  partial="$(mktemp -d "${venv}.partial.XXXXXX")"
  install_requirements "${partial}"
  # ccc is pure Python: copying the package needs no build backend, so nothing unpinned is installed.
  site_packages="$("${partial}/bin/python" -c 'import sysconfig; print(sysconfig.get_path("purelib"))')"
  cp -R "${ROOT}/src/ccc" "${site_packages}/ccc"
  "${partial}/bin/python" -m compileall -q "${site_packages}/ccc"
  "${partial}/bin/python" -m ccc --version
  # Built beside its final place, then renamed there in one step: a job running at the same time on this
  # machine never sees a half-built venv. If another job got there first, keep its venv and drop ours.
  "${PYTHON}" -c 'import os, sys; os.rename(sys.argv[1], sys.argv[2])' "${partial}" "${venv}" 2>/dev/null ||
    rm -rf "${partial}"
}

mkdir -p "${cache_root}"
if [[ -x "${venv}/bin/python" ]]; then
  echo "ccc ${version}: reusing ${venv}"
else
  echo "ccc ${version}: installing into ${venv}"
  build_venv
fi
echo "python=${venv}/bin/python" >>"${GITHUB_OUTPUT:-/dev/null}"
