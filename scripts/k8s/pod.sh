#!/bin/sh
# One step of the fan-out in configs/k8s/indexed-job.yaml, as its pods run it (tests/fanout.test.ts runs the
# same steps locally, killing them part-way):
#
#   pod.sh warm  ARGS…  `cache warm ARGS` into $SCRATCH, published as $RESULTS/text-cache.sqlite
#   pod.sh shard ARGS…  waits for the text cache, starts from a copy of it, `eval ARGS --shard
#                       $JOB_COMPLETION_INDEX/$SHARDS`, published as $RESULTS/shards/shard-$JOB_COMPLETION_INDEX.sqlite
#   pod.sh merge        `merge --wait $SHARDS` over $RESULTS/shards, published as $RESULTS/clip-bench.sqlite
#
# Every DB is written on the pod's local disk (SQLite's WAL does not work on network filesystems) and
# published by a copy under a temporary name and a rename, so no reader ever sees half a file. A shard
# container restarted in its pod finds its own DB in $SCRATCH and continues its run; a new pod starts again
# from the text cache. Either way the shard's predictions are those of an uninterrupted run.
set -eu
SCRATCH=${SCRATCH:-/scratch}
RESULTS=${RESULTS:-/data/results}
CLIP_BENCH=${CLIP_BENCH:-node /app/dist/src/cli/main.js}
TEXT_CACHE=${TEXT_CACHE-$RESULTS/text-cache.sqlite} # set it empty to run without a warmed cache
WAIT_SECONDS=${WAIT_SECONDS:-86400}
POLL_SECONDS=${POLL_SECONDS:-10}

say() { echo "pod.sh $STEP: $*" >&2; }

# publish SRC DEST: a closed DB (its WAL checkpointed away on close) copied to DEST atomically
publish() {
  if [ -s "$1-wal" ]; then say "$1 still has a write-ahead log: its writer did not close it"; exit 1; fi
  mkdir -p "$(dirname "$2")"
  cp "$1" "$2.tmp.$$"
  # Mark the copy as a rollback-journal DB (header bytes 18-19 = 1, per SQLite's file format; valid as its WAL
  # is empty), so that readers on the volume create no -wal and -shm beside it, which network filesystems
  # cannot share.
  printf '\001\001' | dd of="$2.tmp.$$" bs=1 seek=18 count=2 conv=notrunc 2>/dev/null
  mv "$2.tmp.$$" "$2"
  say "published $2"
}

STEP=${1:?"usage: pod.sh warm|shard|merge [ARGS…]"}
shift
case "$STEP" in
  warm)
    $CLIP_BENCH cache warm "$@" --db "$SCRATCH/text-cache.sqlite" --quiet --json
    publish "$SCRATCH/text-cache.sqlite" "$RESULTS/text-cache.sqlite"
    ;;
  shard)
    : "${JOB_COMPLETION_INDEX:?set by the Indexed Job}" "${SHARDS:?the number of shards}"
    db="$SCRATCH/shard.sqlite"
    if [ ! -f "$db" ] && [ -n "$TEXT_CACHE" ]; then
      waited=0
      until [ -f "$TEXT_CACHE" ]; do
        if [ "$waited" -ge "$WAIT_SECONDS" ]; then say "no $TEXT_CACHE after $WAIT_SECONDS s: did the warm Job (step=warm) fail?"; exit 1; fi
        sleep "$POLL_SECONDS"
        waited=$((waited + POLL_SECONDS))
      done
      cp "$TEXT_CACHE" "$db.tmp"
      mv "$db.tmp" "$db"
    fi
    $CLIP_BENCH eval "$@" --shard "$JOB_COMPLETION_INDEX/$SHARDS" --db "$db" --quiet --json
    publish "$db" "$RESULTS/shards/shard-$JOB_COMPLETION_INDEX.sqlite"
    ;;
  merge)
    : "${SHARDS:?the number of shards}"
    rm -f "$SCRATCH/clip-bench.sqlite" "$SCRATCH/clip-bench.sqlite-wal" "$SCRATCH/clip-bench.sqlite-shm" # a retried merge starts afresh
    $CLIP_BENCH merge "$RESULTS/shards" --wait "$SHARDS" --wait-timeout "$WAIT_SECONDS" --wait-poll "$POLL_SECONDS" --into "$SCRATCH/clip-bench.sqlite" --json "$@"
    publish "$SCRATCH/clip-bench.sqlite" "$RESULTS/clip-bench.sqlite"
    ;;
  *)
    say "unknown step (warm, shard or merge)"
    exit 2
    ;;
esac
