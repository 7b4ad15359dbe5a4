#!/usr/bin/env bash
# faults/skew_follower_ahead: a follower's clock one hour ahead under load: it refuses to cosign (outside its 60 s window), the two others finalise.
# What is checked: tests/faults/skew.bash. Needs faketime (libfaketime).
# Usage: bash skew_follower_ahead.sh /path/to/credbank   (env CB_BUILD_DIR, CB_SEED, CB_FULL)
NAME=skew_follower_ahead SKEW=+1h SKEW_VICTIM=follower
source "$(dirname "${BASH_SOURCE[0]}")/skew.bash"
