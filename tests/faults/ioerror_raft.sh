#!/usr/bin/env bash
# faults/ioerror_raft: a follower's io_submit (raft's segment writes, O_DIRECT AIO) fails with EIO from a call chosen by CB_SEED on, under load.
# What is checked: tests/faults/ioerror.bash. Needs strace.
# Usage: bash ioerror_raft.sh /path/to/credbank   (env CB_BUILD_DIR, CB_SEED, CB_FULL)
command -v strace >/dev/null || { echo "skip: no strace"; exit 0; }
FAULT_TIER=full NAME=ioerror_raft IOERR_CALL=io_submit IOERR_VICTIM=follower IOERR_AFTER=12
source "$(dirname "${BASH_SOURCE[0]}")/ioerror.bash"
