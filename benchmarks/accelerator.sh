#!/usr/bin/env bash
# jaxbngan's first minutes on a GPU, from a fresh checkout, in under 8 minutes of wall time:
#
#   bash benchmarks/accelerator.sh                 # on the GPU machine: installs, then measures
#   bash benchmarks/accelerator.sh --cpu-smoke     # the same steps shrunk to about a minute on a CPU
#
# Steps, each with its own time budget and all under one deadline (--deadline SECONDS, default 470):
#   install     a virtual environment in OUT/venv: jaxbngan, JAX's CUDA build, torch's CUDA build
#   tests       the tests of the parts a GPU changes (sharding, driver, compilation cache)
#   points      the points step's sweep, bn-split, 1 to 16384 seeds
#   end_to_end  the 1024-seed `jaxbngan run bn-split` job, and a first and a second run by phase
#   images      the DCGAN image step, 1 to 256 seeds, beside PyTorch on CUDA
#   images_cell one short cell of the images-gpu study (digits, image_strategies), resumable
# Every figure is JSON under OUT (--out DIR, default accelerator-results/DATE): the benchmark's
# throughput-*.json per step folder, tests.json, and summary.json with every step's status
# (ok, stopped at its budget or the deadline, skipped for want of time, failed) and seconds.
# A step stopped at its budget gets SIGINT: the benchmark keeps its records so far (*.partial.json)
# and the study its finished cells, so nothing measured is lost. Exit code 0 unless a step failed.
# --cpu-smoke uses the interpreter $PYTHON (default python3), which needs jaxbngan's dependencies.
set -uo pipefail

cd "$(dirname "$0")/.."
smoke=0
deadline_s=
out="accelerator-results/$(date -u +%Y%m%dT%H%M%SZ)"
while [ $# -gt 0 ]; do
    case "$1" in
        --cpu-smoke) smoke=1 ;;
        --deadline) deadline_s="$2"; shift ;;
        --out) out="$2"; shift ;;
        -h|--help) sed -n '2,19p' "$0" | cut -c3-; exit 0 ;;
        *) echo "accelerator.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
    esac
    shift
done
if [ -z "$deadline_s" ]; then deadline_s=$([ $smoke -eq 1 ] && echo 80 || echo 470); fi
case "$deadline_s" in ''|*[!0-9]*) echo "accelerator.sh: --deadline takes whole seconds" >&2; exit 2 ;; esac
mkdir -p "$out" || exit 2
out="$(cd "$out" && pwd)"
start=$(date +%s)
deadline=$((start + deadline_s))
steps="$out/steps.jsonl"
: > "$steps"
failed=0
python=${PYTHON:-python3}  # the interpreter of --cpu-smoke; the GPU run makes its own

# step NAME BUDGET_S COMMAND...: run COMMAND for at most BUDGET_S seconds (less if the deadline is nearer).
step() {
    local name="$1" budget="$2"
    shift 2
    local left=$((deadline - $(date +%s)))
    if [ "$left" -lt 5 ]; then
        printf '{"step": "%s", "status": "skipped", "reason": "no time left before the deadline"}\n' "$name" >> "$steps"
        echo "[$name] skipped: no time left"
        return
    fi
    [ "$budget" -gt "$left" ] && budget=$left
    echo "[$name] at most ${budget} s: $*"
    local t0=$(date +%s%N)
    timeout --signal=INT --kill-after=15 "$budget" "$@" > "$out/$name.log" 2>&1
    local rc=$?
    local ms=$(( ($(date +%s%N) - t0) / 1000000 ))
    local seconds=$(printf '%d.%03d' $((ms / 1000)) $((ms % 1000)))
    local status=ok
    if [ $rc -eq 124 ] || [ $rc -eq 137 ] || [ $rc -eq 130 ]; then
        status=stopped
    elif [ $rc -ne 0 ]; then
        status=failed
        failed=1
    fi
    printf '{"step": "%s", "status": "%s", "exit": %d, "seconds": %s, "budget_s": %d, "log": "%s.log"}\n' \
        "$name" "$status" "$rc" "$seconds" "$budget" "$name" >> "$steps"
    echo "[$name] $status in ${seconds} s (log: $out/$name.log)"
}

if [ $smoke -eq 1 ]; then
    # The current interpreter, CPU only, toy sizes: checks that every step runs and writes its JSON.
    bench=("$python" benchmarks/throughput.py --quick --presets bn-split --peers none)
    step tests 20 "$python" -m pytest tests/test_compile_cache.py -q -k order --junitxml="$out/tests.xml" -p no:cacheprovider
    step points 30 "${bench[@]}" --sections sweep --seeds 1,2 --out "$out/points"
    step end_to_end 10 "${bench[@]}" --sections end_to_end --out "$out/end_to_end"
    step images 10 "${bench[@]}" --sections dcgan --seeds 1 --out "$out/images"
    step images_cell 10 "$python" experiments/images.py --profile tiny --only image_strategies --datasets digits \
        --out "$out/images_cell"
else
    step install 150 bash -c "
        $python -m venv '$out/venv' && . '$out/venv/bin/activate' &&
        pip install -q -e '.[dev,images,peers]' 'jax[cuda12]' &&
        pip install -q torch --index-url https://download.pytorch.org/whl/cu126 &&
        python -c 'import jax; print(jax.devices())'"
    if [ -x "$out/venv/bin/python" ]; then python="$out/venv/bin/python"; fi
    bench=("$python" benchmarks/throughput.py --presets bn-split --seconds 0.5 --reps 3)
    step tests 45 "$python" -m pytest tests/test_sharding.py tests/test_driver.py tests/test_compile_cache.py -q -x \
        --junitxml="$out/tests.xml" -p no:cacheprovider
    step points 75 "${bench[@]}" --sections sweep --peers none --seeds 1,4,16,64,256,1024,4096,16384 \
        --out "$out/points"
    step end_to_end 100 "${bench[@]}" --sections end_to_end --peers none --out "$out/end_to_end"
    step images 75 "${bench[@]}" --sections dcgan --peers torch --seeds 1,4,16,64,256 --out "$out/images"
    step images_cell 45 "$python" experiments/images.py --profile images-gpu --only image_strategies \
        --datasets digits --seeds 64 --out "$out/images_cell"
fi

"$python" - "$out" "$start" "$deadline_s" "$smoke" <<'EOF'
import json, subprocess, sys, time, xml.etree.ElementTree as ET
from pathlib import Path

out, start, deadline_s, smoke = Path(sys.argv[1]), float(sys.argv[2]), int(sys.argv[3]), sys.argv[4] == "1"
steps = [json.loads(line) for line in (out / "steps.jsonl").read_text().splitlines() if line.strip()]
if (out / "tests.xml").is_file():
    suite = ET.parse(out / "tests.xml").getroot()
    suite = suite if suite.tag == "testsuite" else suite.find("testsuite")
    counts = {k: int(suite.get(k, 0)) for k in ("tests", "failures", "errors", "skipped")}
    (out / "tests.json").write_text(json.dumps(counts, indent=2) + "\n")
try:
    gpus = subprocess.run(["nvidia-smi", "--query-gpu=name,memory.total,driver_version", "--format=csv,noheader"],
                          capture_output=True, text=True, timeout=10).stdout.strip().splitlines()
except (OSError, subprocess.SubprocessError):
    gpus = []
commit = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True).stdout.strip()
figures = sorted(str(p.relative_to(out)) for p in out.rglob("*.json") if p.name != "summary.json")
summary = {"smoke": smoke, "commit": commit, "gpus": gpus, "deadline_s": deadline_s,
           "wall_s": time.time() - start, "steps": steps, "json_files": figures}
(out / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
print(f"{len(steps)} steps in {summary['wall_s']:.0f} s: " + ", ".join(f"{s['step']} {s['status']}" for s in steps))
print(f"figures: {out}/summary.json and {len(figures)} more JSON files")
EOF
exit $failed
