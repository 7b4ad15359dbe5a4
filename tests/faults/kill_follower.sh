#!/usr/bin/env bash
# faults/kill_follower: SIGKILL of a follower (chosen by CB_SEED) under a continuous load, then restart;
# what is checked: tests/faults/kill.bash. CB_FULL=1: more rounds and entries.
# Usage: bash kill_follower.sh /path/to/credbank   (env CB_BUILD_DIR, CB_SEED, CB_FULL)
FAULT_TIER=full NAME=kill_follower KILL_MODE=follower
source "$(dirname "${BASH_SOURCE[0]}")/kill.bash"
