# Shared by the shell tests in tests/cli/: pass/fail counters and two
# assertions. Source it after cd-ing into the test's temp dir (expect writes
# out.txt and err.txt there). Not a test itself (ctest runs tests/*/*.sh).
pass=0 fail=0

check() { # description, command...
  local d=$1; shift
  if "$@"; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL: $d" >&2; fi
}

# expect DESCRIPTION STATUS STDERR_REGEX COMMAND...: exit status and stderr
expect() {
  local d=$1 want=$2 pat=$3; shift 3
  local got=0
  "$@" >out.txt 2>err.txt || got=$?
  if [ "$got" = "$want" ] && { [ -z "$pat" ] || grep -Eq -- "$pat" err.txt; }; then
    pass=$((pass + 1))
  else
    fail=$((fail + 1))
    echo "FAIL: $d: exit $got (want $want); stderr: $(head -c 400 err.txt)" >&2
    tail -20 out.txt >&2
  fi
}
