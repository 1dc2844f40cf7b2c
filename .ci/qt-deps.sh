#!/usr/bin/env bash
# System packages s3z needs that pip cannot provide: Qt's runtime libraries, fonts, Xvfb for
# real-window screenshots, GNU time for the memory benchmarks, and python3-venv on Debian; for
# the install tests desktop-file-validate (desktop-file-utils) and the zsh and fish shells whose
# completion scripts are run.
#
#   .ci/qt-deps.sh run            what `make run` needs (Qt libs, fonts)
#   .ci/qt-deps.sh test           what `make test` needs (that + Xvfb, xauth, GNU time, the
#                                 desktop-entry validator, zsh, fish)
#   .ci/qt-deps.sh verify PYTHON  after pip: ask the dynamic linker whether Qt's platform
#                                 plugins find every library (names what is really missing)
#
# Missing packages are installed with apt-get when we are root on Debian/Ubuntu; otherwise the
# script prints the one command to run and fails. It never hides a missing step.
set -euo pipefail

RUN_PKGS=(libegl1 libgl1 libxkbcommon0 libfontconfig1 fonts-dejavu-core libdbus-1-3 libglib2.0-0
  libxcb-cursor0 libxcb-icccm4 libxcb-image0 libxcb-keysyms1 libxcb-render-util0 libxcb-shape0
  libxcb-xkb1 libxkbcommon-x11-0)
TEST_PKGS=(xvfb xauth time desktop-file-utils zsh fish)
PY=${PY:-python3}

die() { echo "qt-deps: $*" >&2; exit 1; }

missing_debs() {
  local pkg
  for pkg in "$@"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" \
      || printf '%s\n' "$pkg"
  done
}

ensure() {
  local missing=()
  if ! command -v dpkg-query >/dev/null; then
    echo "qt-deps: not a Debian-like system; install the equivalents of: $*" >&2
    echo "qt-deps: (the 'verify' step after pip names any library that is still missing)" >&2
    return 0
  fi
  mapfile -t missing < <(missing_debs "$@")
  # Debian's own python3 needs python3-venv for `python3 -m venv` (pyenv/python.org builds don't).
  if ! "$PY" -c "import ensurepip" >/dev/null 2>&1; then
    missing+=("python3-venv")
  fi
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null; then
    echo "qt-deps: installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    mapfile -t missing < <(missing_debs "${missing[@]}")
    [ ${#missing[@]} -eq 0 ] || die "apt-get did not install: ${missing[*]}"
  else
    die "missing system packages: ${missing[*]}
install them with:
  sudo apt-get install -y --no-install-recommends ${missing[*]}"
  fi
}

verify() {
  local python=$1 plugins lib report=""
  plugins=$("$python" -c "import pathlib, PySide6; print(pathlib.Path(PySide6.__file__).parent / 'Qt/plugins/platforms')") \
    || die "PySide6 is not importable by $python"
  for lib in libqoffscreen.so libqxcb.so; do
    [ -f "$plugins/$lib" ] || die "$plugins/$lib is missing (broken PySide6 install?)"
    report+=$(ldd "$plugins/$lib" | grep "not found" || true)
  done
  [ -z "$report" ] || die "Qt platform plugins cannot load:
$report
run .ci/qt-deps.sh test (as root) or install the packages that provide these libraries"
}

case "${1:-}" in
  run) ensure "${RUN_PKGS[@]}" ;;
  test) ensure "${RUN_PKGS[@]}" "${TEST_PKGS[@]}" ;;
  verify) [ $# -eq 2 ] || die "usage: $0 verify PYTHON"; verify "$2" ;;
  *) die "usage: $0 run|test|verify PYTHON" ;;
esac
