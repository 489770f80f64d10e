#!/usr/bin/env bash
# Predicted against measured throughput, in rounds: each round profiles this machine
# (`plan --profile-device --model`) and runs `calibrate --runs 1` right after, so a round's
# prediction and measurement see the same machine speed. On a shared VM that speed drifts by
# ±10% over minutes, more than one profile-then-calibrate pair can average away; the medians of
# the rounds' ratios are the figure to quote.
#   ROUNDS=3 LAYOUT="-pp 2" DEVICES=2 NUM_PROMPTS=1,8,32 bash scripts/calibrate-rounds.sh
set -euo pipefail
BIN="${SHARDLINE_BIN:-.build/release/shardline}"
MODEL="${MODEL:-$(bash "$(dirname "$0")/default-model.sh")}"
ROUNDS="${ROUNDS:-3}"
LAYOUT="${LAYOUT:--tp 1}"
DEVICES="${DEVICES:-1}"
NUM_PROMPTS="${NUM_PROMPTS:-1,8,32}"
QUANT="${QUANT:-q4}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

for round in $(seq 1 "$ROUNDS"); do
    "$BIN" plan --profile-device --model "$MODEL" --quantization "$QUANT" --devices-per-host "$DEVICES" > "$work/device.json"
    # shellcheck disable=SC2086
    "$BIN" calibrate --model "$MODEL" --gpu-file "$work/device.json" --quantization "$QUANT" $LAYOUT \
        --num-prompts "$NUM_PROMPTS" --runs 1 > "$work/round$round.txt"
    echo "round $round: $(grep -o '"note" : "[^"]*' "$work/device.json" | sed 's/"note" : "//; s/; no efficiency.*//')"
    grep -E 'output throughput|TTFT mean|TPOT mean' "$work/round$round.txt"
done

# Per request count and measure: measured, predicted and predicted/measured of every round, and their medians.
echo
echo "medians over $ROUNDS rounds ($LAYOUT, $DEVICES device(s) per host)"
awk '
/output throughput|TTFT mean|TPOT mean/ {
    key = $1 " " $2 " " $3
    m[key] = m[key] " " $4; p[key] = p[key] " " $5; r[key] = r[key] " " sprintf("%.2f", $5 / $4)
    if (!(key in seen)) { order[++n] = key; seen[key] = 1 }
}
function median(list,    a, k, i, j, t) {
    k = split(list, a, " ")
    for (i = 1; i <= k; i++) for (j = i + 1; j <= k; j++) if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t }
    return k % 2 ? a[(k + 1) / 2] : (a[k / 2] + a[k / 2 + 1]) / 2
}
END {
    printf "%-28s %10s %10s %8s   %s\n", "requests measure", "measured", "predicted", "p/m", "p/m of each round"
    for (i = 1; i <= n; i++) {
        key = order[i]
        printf "%-28s %10.2f %10.2f %7.2fx  %s\n", key, median(m[key]), median(p[key]), median(r[key]), r[key]
    }
}' "$work"/round*.txt
