#!/usr/bin/env bash
# faults/diskfull_leader: diskfull.sh with the leader's file system filled:
# it must fail stopped, hand leadership over and acknowledge nothing it did
# not store; the two others go on; it restarts, catches up and converges.
# Usage: bash diskfull_leader.sh /path/to/credbank   (env CB_BUILD_DIR)
FAULT_TIER=full DISKFULL_VICTIM=leader NAME=diskfull_leader exec bash "$(dirname "${BASH_SOURCE[0]}")/diskfull.sh" "$@"
