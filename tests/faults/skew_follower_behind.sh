#!/usr/bin/env bash
# faults/skew_follower_behind: a follower's clock one hour behind under load: it refuses to cosign, the two others finalise.
# What is checked: tests/faults/skew.bash. Needs faketime (libfaketime).
# Usage: bash skew_follower_behind.sh /path/to/credbank   (env CB_BUILD_DIR, CB_SEED, CB_FULL)
FAULT_TIER=full NAME=skew_follower_behind SKEW=-1h SKEW_VICTIM=follower
source "$(dirname "${BASH_SOURCE[0]}")/skew.bash"
