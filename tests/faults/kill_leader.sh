#!/usr/bin/env bash
# faults/kill_leader: SIGKILL of the leader under a continuous load, then restart;
# what is checked: tests/faults/kill.bash. CB_FULL=1: more rounds and entries.
# Usage: bash kill_leader.sh /path/to/credbank   (env CB_BUILD_DIR, CB_SEED, CB_FULL)
NAME=kill_leader KILL_MODE=leader
source "$(dirname "${BASH_SOURCE[0]}")/kill.bash"
