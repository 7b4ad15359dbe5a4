#!/usr/bin/env bash
# faults/skew_leader_ahead: the leader's clock one hour ahead from before the first seal, under load.
# What is checked: tests/faults/skew.bash. Needs faketime (libfaketime).
# Usage: bash skew_leader_ahead.sh /path/to/credbank   (env CB_BUILD_DIR, CB_SEED, CB_FULL)
FAULT_TIER=full NAME=skew_leader_ahead SKEW=+1h SKEW_VICTIM=leader
source "$(dirname "${BASH_SOURCE[0]}")/skew.bash"
