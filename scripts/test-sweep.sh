#!/usr/bin/env bash
# Kills every process still carrying SEMU_TEST_RUN=<run> in its environment (started by a test of
# that run and left behind), logging each to $SEMU_TEST_REAP_LOG. Usage: test-sweep.sh RUN
run=${1:?usage: test-sweep.sh RUN}
for e in /proc/[0-9]*/environ; do
  p=${e#/proc/}; p=${p%/environ}
  { [ "$p" = "$$" ] || [ "$p" = "$PPID" ]; } && continue
  # The guard's own reapers (SEMU_TEST_REAPER) end by themselves once their test process is gone.
  grep -qzx "SEMU_TEST_REAPER=1" "$e" 2>/dev/null && continue
  if grep -qzx "SEMU_TEST_RUN=$run" "$e" 2>/dev/null; then
    name=$(cat "/proc/$p/comm" 2>/dev/null)
    if kill -9 "$p" 2>/dev/null && [ -n "${SEMU_TEST_REAP_LOG:-}" ]; then
      echo "the suite left $name (pid $p) running: killed" >> "$SEMU_TEST_REAP_LOG"
    fi
  fi
done
