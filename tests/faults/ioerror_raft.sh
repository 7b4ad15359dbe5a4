#!/usr/bin/env bash
# faults/ioerror_raft: a follower's io_submit (raft's segment writes, O_DIRECT AIO) fails with EIO from a call chosen by CB_SEED on, under load.
# What is checked: tests/faults/ioerror.bash. Needs strace.
# Why io_submit: raft 0.15 (uv_writer.c) writes every segment block with
# io_submit, whether its probe found O_DIRECT + non-blocking kernel AIO (ext4,
# as the scenario's /tmp here: io_submit with RWF_NOWAIT from the loop
# thread) or not (tmpfs: the same io_submit, blocking, from the thread pool);
# LMDB never calls it, so only Raft's log writes fail. Raft 0.15 tells no one
# (spec/testing.md, ioerror): the node's fail-stop comes from fsm.c's
# watch_raft_storage, its bounded shutdown from main.c (close_timer).
# Usage: bash ioerror_raft.sh /path/to/credbank   (env CB_BUILD_DIR, CB_SEED, CB_FULL)
command -v strace >/dev/null || { echo "skip: no strace"; exit 0; }
FAULT_TIER=full NAME=ioerror_raft IOERR_CALL=io_submit IOERR_VICTIM=follower IOERR_AFTER=12
source "$(dirname "${BASH_SOURCE[0]}")/ioerror.bash"
