#!/usr/bin/env bash
# faults/kill_two: SIGKILL of one node, restart, then of another (both chosen by CB_SEED), under a continuous load;
# what is checked: tests/faults/kill.bash. CB_FULL=1: more rounds and entries.
# Usage: bash kill_two.sh /path/to/credbank   (env CB_BUILD_DIR, CB_SEED, CB_FULL)
FAULT_TIER=full NAME=kill_two KILL_MODE=two
source "$(dirname "${BASH_SOURCE[0]}")/kill.bash"
