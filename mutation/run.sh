#!/usr/bin/env bash
# Mutation run of one module by hand (not in CI): mutation/run.sh MODULE [TEST PATH...]
#   MODULE is a path under layersim/ without .py, e.g. tcp/congestion, net/nat/table, wire/checksum.
#   The test paths default to the tests that matter for the module (see tests_for below).
# The run happens in a scratch copy, .mutation/MODULE/ (git-ignored), so [tool.mutmut] in pyproject.toml can be
# narrowed to one file and one test selection without touching the worktree; it always starts fresh.
# One worker only (--max-children 1): the machine is shared. Results: .mutation/MODULE/results.txt
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
venv=${LAYERSIM_VENV:-/work/main/.venv}
module=${1:?usage: mutation/run.sh MODULE [TEST PATH...], e.g. mutation/run.sh tcp/congestion}
shift
file=layersim/$module.py
[[ -f $root/$file ]] || { echo "no such module: $file" >&2; exit 2; }

tests_for() {  # the test selection for a module, relative to the repo root
    case $1 in
        tcp/*) echo tests/tcp ;;
        net/nat/*) (cd "$root" && echo tests/net/test_nat*.py) ;;
        wire/checksum) echo tests/wire ;;
        wire/*) echo tests/wire ;;
        net/*) echo tests/net ;;
        *) echo tests ;;
    esac
}
if (($#)); then tests=("$@"); else read -r -a tests <<< "$(tests_for "$module")"; fi

work=$root/.mutation/${module//\//_}
rm -rf "$work"
mkdir -p "$work"
cp -r "$root/layersim" "$root/tests" "$work/"
find "$work" -name __pycache__ -prune -exec rm -rf {} +

# pyproject.toml with [tool.mutmut] narrowed to this file and these tests
"$venv/bin/python" - "$root/pyproject.toml" "$work/pyproject.toml" "$file" "${tests[@]}" <<'PY'
import json
import re
import sys

source, target, file, *tests = sys.argv[1:]
text = open(source, encoding="utf-8").read()
text = re.sub(r"(?ms)^\[tool\.mutmut\]\n.*?(?=^\[|\Z)", "", text)
text += ("\n[tool.mutmut]\n"
         'source_paths = ["layersim"]\n'
         f"only_mutate = [{json.dumps(file)}]\n"
         'pytest_add_cli_args = ["-q", "-p", "no:cacheprovider", "-m", "not slow"]\n'
         f"pytest_add_cli_args_test_selection = {json.dumps(tests)}\n")
open(target, "w", encoding="utf-8").write(text)
PY

cd "$work"
export MPLBACKEND=Agg LAYERSIM_STRICT=1
unset PYTHONPATH
echo "mutating $file against ${tests[*]} in $work"
"$venv/bin/mutmut" run --max-children 1 > run.log 2>&1 || { echo "mutmut run failed: see $work/run.log" >&2; tail -5 run.log >&2; }
"$venv/bin/mutmut" results --all true > results.txt 2>&1 || "$venv/bin/mutmut" results > results.txt 2>&1 || true
"$venv/bin/python" - <<'PY'
import collections
import re

counts = collections.Counter()
for line in open("results.txt", encoding="utf-8"):
    m = re.match(r"\s*(\S+): (.+)$", line)
    if m:
        counts[m.group(2).strip()] += 1
total = sum(counts.values())
killed = counts.get("killed", 0)
print(f"{total} mutants: " + ", ".join(f"{n} {k}" for k, n in sorted(counts.items())))
if total:
    print(f"killed {killed}/{total} = {100 * killed / total:.1f} %  (survivors: grep -v killed {'results.txt'})")
PY
