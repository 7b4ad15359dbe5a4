#!/usr/bin/env bash
# faults/ioerror_fdatasync: a follower's fdatasync (LMDB's commit sync) fails with EIO from a call chosen by CB_SEED on, under load.
# What is checked: tests/faults/ioerror.bash. Needs strace.
# Usage: bash ioerror_fdatasync.sh /path/to/credbank   (env CB_BUILD_DIR, CB_SEED, CB_FULL)
command -v strace >/dev/null || { echo "skip: no strace"; exit 0; }
NAME=ioerror_fdatasync IOERR_CALL=fdatasync IOERR_VICTIM=follower
source "$(dirname "${BASH_SOURCE[0]}")/ioerror.bash"
