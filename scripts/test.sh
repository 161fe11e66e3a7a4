#!/usr/bin/env bash
# Quick start, part 2: build everything (Release, tests on) and run every test with ctest, then
# print a summary: passed / failed / skipped counts and every skipped test with its reason.
# Then installs the Python package (python/) into a venv under the build folder and runs pytest.
# Fails when any test fails, when no test ran at all, or when the build fails.
# Extra arguments go to ctest, e.g. ./scripts/test.sh -R unit
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

ts_ensure_tools gtest
ts_ensure_nvshmem_headers
ts_configure -DTILESCALE_BUILD_TESTS=ON
ts_say "building in $TS_BUILD with $TS_JOBS jobs"
ninja -C "$TS_BUILD" -j "$TS_JOBS"

junit="$TS_BUILD/ctest-junit.xml"
rm -f "$junit"
ts_say "running the tests"
rc=0
(cd "$TS_BUILD" && ctest --output-on-failure --no-tests=error --timeout 600 -j "$TS_JOBS" \
  --output-junit "$junit" "$@") || rc=$?

[ -f "$junit" ] || ts_die "ctest wrote no results ($junit); exit status $rc"

# ctest's JUnit file: one <testcase status="run|fail|notrun"> per test, its output in <system-out>.
# A GTEST_SKIP test is "notrun" with <skipped message="SKIP_REGULAR_EXPRESSION_MATCHED"/>; its
# reason is the text between GoogleTest's "<file>:<line>: Skipped" line and "[  SKIPPED ]".
awk '
  function unescape(s) {
    gsub(/&lt;/, "<", s); gsub(/&gt;/, ">", s); gsub(/&quot;/, "\"", s); gsub(/&apos;/, "\047", s)
    gsub(/&amp;/, "\\&", s); return s
  }
  function attr(line, key,   m) {
    if (match(line, key "=\"[^\"]*\"")) { m = substr(line, RSTART + length(key) + 2, RLENGTH - length(key) - 3); return m }
    return ""
  }
  function finish() {
    if (name == "") return
    total++
    if (status == "run") passed++
    else if (status == "fail") { failed++; failures[failed] = name }
    else if (status == "notrun" && skipmsg ~ /SKIP/) {
      skipped++
      if (reason == "") reason = "(no reason given)"
      skips[skipped] = name ": " reason (where != "" ? "  [" where "]" : "")
    } else { failed++; failures[failed] = name " (not run" (skipmsg != "" ? ": " skipmsg : "") ")" }
    name = ""
  }
  /<testcase / { finish(); name = attr($0, "name"); status = attr($0, "status"); skipmsg = ""; reason = ""; where = ""; inskip = 0; next }
  /<skipped / { skipmsg = attr($0, "message"); next }
  /<\/testcase>/ { finish(); next }
  name != "" && /^\[  SKIPPED \]/ { inskip = 0; next }
  name != "" && inskip { line = unescape($0); if (line != "") reason = (reason == "" ? line : reason " / " line); next }
  name != "" && /: Skipped$/ { inskip = 1; where = $0; sub(/: Skipped$/, "", where); sub(/^.*\//, "", where); next }
  END {
    finish()
    printf "\n==> tests: %d passed, %d failed, %d skipped (of %d)\n", passed, failed, skipped, total
    for (i = 1; i <= skipped; i++) printf "    skipped: %s\n", unescape(skips[i])
    for (i = 1; i <= failed; i++) printf "    FAILED:  %s\n", unescape(failures[i])
    if (total == 0) { print "error: no tests ran; a test run with zero tests is a failure"; exit 1 }
    if (failed > 0) exit 1
  }
' "$junit" || { [ "$rc" -ne 0 ] || rc=1; }

# The Python front end (python/): its package installed into a venv under the build folder, its tests.
ts_python_tests || { ts_say "Python tests FAILED"; [ "$rc" -ne 0 ] || rc=1; }

if [ "$rc" -ne 0 ]; then
  echo "==> FAILED (exit status $rc)"
  exit "$rc"
fi
echo "==> all tests passed"
