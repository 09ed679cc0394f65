#!/usr/bin/env bash
# Train reader variants from a bundle (see qa/train/bundle.py) on a GPU machine that has torch and
# transformers but no model hub, and keep the one with the best validation F1.
# Usage: scripts/gpu_train_reader.sh BUNDLE_DIR OUT_DIR [SECONDS_BUDGET]
# VARIANTS (one "name flags..." per line) replaces the default list; PARALLEL=1 trains them at
# the same time (the model is small: one run leaves most of an H100/H200 idle).
set -euo pipefail
bundle=$1 out=$2 budget=${3:-420}
start=$(date +%s)
mkdir -p "$out"
export PYTHONUNBUFFERED=1 TQDM_MININTERVAL=10
default_variants="v1 --epochs 4 --lr 1e-4 --negative-share 0.3
v2 --epochs 4 --lr 2e-4 --negative-share 0.3
v3 --epochs 6 --lr 1e-4 --negative-share 0.5"
mapfile -t variants <<< "${VARIANTS:-$default_variants}"
for v in "${variants[@]}"; do
  set -- $v
  name=$1; shift
  left=$(( budget - ($(date +%s) - start) ))
  if (( left < 60 )); then echo "skipping $name: out of time"; continue; fi
  echo "== $name $* (at most ${left}s)"
  if [[ "${PARALLEL:-0}" == 1 ]]; then
    timeout "$left" python3 -m qa.train.bundle "$bundle" "/tmp/reader-$name" "$@" > "$out/$name.log" 2>&1 &
  else
    timeout "$left" python3 -m qa.train.bundle "$bundle" "/tmp/reader-$name" "$@" 2>&1 | grep -v 'step/s\]$' | tail -n 12 || true
  fi
done
wait || true
python3 - "$out" <<'PY'
import json, pathlib, shutil, sys
out = pathlib.Path(sys.argv[1])
runs = {}
for d in pathlib.Path("/tmp").glob("reader-v*"):
    if (d / "reader.json").is_file():
        runs[d.name] = json.loads((d / "reader.json").read_text())
if not runs:
    sys.exit("no run finished within the budget; see the logs in " + str(out))
summary = {k: {"validation": v["validation"], "history": v["history"], "training": v["training"]} for k, v in runs.items()}
(out / "summary.json").write_text(json.dumps(summary, indent=1))
best = max(runs, key=lambda k: runs[k]["validation"]["f1"])
for f in pathlib.Path("/tmp", best).iterdir():
    shutil.copy(f, out / f.name)
print("best:", best, runs[best]["validation"])
PY
