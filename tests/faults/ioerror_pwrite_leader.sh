#!/usr/bin/env bash
# faults/ioerror_pwrite_leader: the leader's pwrite64 (LMDB's page and meta writes) fails with EIO from a call chosen by CB_SEED on, under load.
# What is checked: tests/faults/ioerror.bash. Needs strace.
# Usage: bash ioerror_pwrite_leader.sh /path/to/credbank   (env CB_BUILD_DIR, CB_SEED, CB_FULL)
command -v strace >/dev/null || { echo "skip: no strace"; exit 0; }
FAULT_TIER=full NAME=ioerror_pwrite_leader IOERR_CALL=pwrite64 IOERR_VICTIM=leader
source "$(dirname "${BASH_SOURCE[0]}")/ioerror.bash"
