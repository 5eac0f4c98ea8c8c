# shellcheck shell=bash
# tools/wine/env.sh — source me (bash) after tools/wine/setup.sh has run once.
#
# Gives this checkout's private Wine prefix and its Windows CPython:
#   WINEPREFIX        $ARIA_TRAY_WINE_CACHE/prefix-<hash of this checkout's path>
#   P:\               this checkout (the project); Y:\ the Windows CPython (Y:\python.exe);
#                     W:\ the downloaded win_amd64 wheels, the Windows pip's only index (offline)
#   wine_up           start the prefix's wineserver (+ a private Xvfb when $DISPLAY is unusable)
#   wpy ARGS...       Windows python.exe ARGS, run in P:\ (stdout/stderr piped through cat)
#   wpyw ARGS...      the same with pythonw.exe (no console)
#   wrun PROG ARGS... any Windows program, run in P:\
#   wine_down         stop every Wine process of this prefix, and the Xvfb wine_up started
# Linux environment variables do not reach Windows processes, except ARIA_TRAY_*, QT_*,
# PYTEST_*, PYTHON*, WINEPATH and NODE_SKIP_PLATFORM_CHECK: a Windows process sees the
# environment real Windows gives it.

_wine_here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
export WINE_PROJECT=${WINE_PROJECT:-$(cd "$_wine_here/../.." && pwd)}
export ARIA_TRAY_WINE_CACHE=${ARIA_TRAY_WINE_CACHE:-$HOME/.cache/aria-tray-wine}
WINEPREFIX=$ARIA_TRAY_WINE_CACHE/prefix-$(printf '%s' "$WINE_PROJECT" | sha256sum | cut -c1-12)
export WINEPREFIX
export WINE_STATE=$WINEPREFIX.state # Wine's HOME, logs, the Xvfb wine_up started
export WINEDEBUG=${WINEDEBUG:--all}
# No Mono/Gecko installer prompts; no winemenubuilder (it writes .desktop/mime files); no
# winedbg: a crash would stop the process in the debugger (and the run with it, forever),
# so a crashed process ends at once instead, with the fault in the output.
export WINEDLLOVERRIDES='mscoree,mshtml=;winemenubuilder.exe,winedbg.exe=d'
export WPY='Y:\python.exe' WPYW='Y:\pythonw.exe'
# The UNC share setup.sh maps (tests/unit/test_file_urls.py drops a .torrent from it).
export ARIA_TRAY_TEST_UNC_SHARE='\\aria-tray-test\share'
unset _wine_here

# The environment a Wine process starts with: a clean one, plus what the caller set for the
# app or the tests. Wine's HOME/XDG dirs live in $WINE_STATE, so nothing lands in the real ~.
_wenv() {
  local pass=() name
  while IFS= read -r name; do pass+=("$name=${!name}"); done < <(
    compgen -e | grep -E '^(ARIA_TRAY_|QT_|PYTEST_|PYTHON|WINEPATH$|NODE_SKIP_PLATFORM_CHECK$)' |
      grep -v '^ARIA_TRAY_WINE_' || true)
  env -i PATH=/usr/local/bin:/usr/bin:/bin LANG=C.UTF-8 DISPLAY="${DISPLAY:-}" \
    HOME="$WINE_STATE/home" WINEPREFIX="$WINEPREFIX" WINEDEBUG="$WINEDEBUG" \
    PIP_NO_INDEX=1 PIP_FIND_LINKS='W:\' PIP_DISABLE_PIP_VERSION_CHECK=1 \
    WINEDLLOVERRIDES="$WINEDLLOVERRIDES" "${pass[@]}" "$@"
}

_wine_display_ok() { [ -n "${DISPLAY:-}" ] && xdpyinfo -display "$DISPLAY" >/dev/null 2>&1; }

# A persistent wineserver, started once with its output in a log: a wine command's own
# stdout pipe then reaches EOF as soon as *it* exits (not when wineserver does).
wine_up() {
  mkdir -p "$WINE_STATE/home" "$WINE_STATE/logs"
  # The Xvfb an earlier wine_up of this prefix started (in another shell): reuse it,
  # rather than start one more that no wine_down would know to stop.
  if ! _wine_display_ok && [ -f "$WINE_STATE/xvfb.display" ] &&
    kill -0 "$(cat "$WINE_STATE/xvfb.pid" 2>/dev/null)" 2>/dev/null; then
    export DISPLAY
    DISPLAY=$(cat "$WINE_STATE/xvfb.display")
  fi
  if ! _wine_display_ok; then
    local n
    for n in $(seq 60 99); do
      [ -e "/tmp/.X$n-lock" ] || [ -e "/tmp/.X11-unix/X$n" ] && continue
      Xvfb ":$n" -screen 0 1280x800x24 -nolisten tcp >"$WINE_STATE/logs/xvfb.log" 2>&1 &
      echo $! >"$WINE_STATE/xvfb.pid"
      disown # ended by wine_down: no "Killed" job notice from the shell that started it
      echo ":$n" >"$WINE_STATE/xvfb.display"
      export DISPLAY=":$n"
      local _
      for _ in $(seq 1 50); do _wine_display_ok && break; sleep 0.1; done
      _wine_display_ok && break
      kill "$(cat "$WINE_STATE/xvfb.pid")" 2>/dev/null || true
      rm -f "$WINE_STATE/xvfb.pid"
    done
  fi
  _wenv wineserver -p >>"$WINE_STATE/logs/wineserver.log" 2>&1 || true
  _wenv wine wineboot >>"$WINE_STATE/logs/wineserver.log" 2>&1
}

wine_down() {
  _wenv wineserver -k 2>/dev/null || true
  _wenv wineserver -w 2>/dev/null || true
  # What a wineserver that died left behind (-k cannot reach it): Windows processes that
  # would otherwise live on, holding a caller's output pipes open.
  python3 "$WINE_PROJECT/tools/wine/prefix_procs.py" kill "$WINEPREFIX" >/dev/null 2>&1 || true
  if [ -f "$WINE_STATE/xvfb.pid" ]; then
    kill "$(cat "$WINE_STATE/xvfb.pid")" 2>/dev/null || true
    rm -f "$WINE_STATE/xvfb.pid" "$WINE_STATE/xvfb.display"
  fi
  true
}

# A Windows python.exe can't write stdout/stderr to a regular Linux file under Wine 8
# ("init_sys_streams: can't initialize sys standard streams [WinError 6]"): always pipes.
# Their readers are process substitutions, which bash does not wait for: a Windows
# process left running with our output (a test's leftover; Wine's conhost.exe after a
# killed cmd.exe) must not keep this waiting once the program itself has exited. Such
# leftovers end with wine_down, and the readers with them.
wrun() { (cd "$WINE_PROJECT" && _wenv wine "$@" > >(cat) 2> >(cat >&2)); }
wpy() { wrun "$WPY" "$@"; }
wpyw() { wrun "$WPYW" "$@"; }
