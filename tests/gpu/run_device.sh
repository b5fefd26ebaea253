#!/usr/bin/env bash
# Run dagrad's GPU tests (tests/gpu) on a machine with CuPy and a CUDA GPU.
#
#   bash tests/gpu/run_device.sh            # from the repository root (or anywhere)
#   OUT=/some/dir bash tests/gpu/run_device.sh   # also writes junit.xml + log there
#   SWEEP=1 bash tests/gpu/run_device.sh         # then every OpInfo sample CPU vs cuda
#                                                # (tests/gpu/opinfo_sweep.py, minutes)
#
# dagrad need not be installed: PYTHONPATH=src. No -x: every failure is reported in one run.
# Extra arguments go to pytest (e.g. -k resnet, -x).
set -u
cd "$(dirname "$0")/../.."
PY=${PYTHON:-python3}
export PYTHONPATH="src${PYTHONPATH:+:$PYTHONPATH}"
export PYTHONDONTWRITEBYTECODE=1

echo "== environment"
date -u
"$PY" - <<'PYEOF'
import platform, sys
print("python", sys.version.split()[0], platform.machine())
import numpy; print("numpy", numpy.__version__)
try:
    import cupy as cp
    print("cupy", cp.__version__, "| devices:", cp.cuda.runtime.getDeviceCount(),
          "| runtime", cp.cuda.runtime.runtimeGetVersion(),
          "| driver", cp.cuda.runtime.driverGetVersion())
    p = cp.cuda.runtime.getDeviceProperties(0)
    print("gpu0:", p["name"].decode() if isinstance(p["name"], bytes) else p["name"])
except Exception as e:  # the tests skip themselves without CuPy; say why here
    print("cupy unavailable:", type(e).__name__, e)
try:
    import ml_dtypes; print("ml_dtypes", ml_dtypes.__version__)
except Exception:
    print("ml_dtypes: not installed (bfloat16 tests skip)")
import dagrad; print("dagrad from", dagrad.__file__, "| cuda available:", dagrad.cuda.is_available())
PYEOF

TIMEOUT_ARGS=()
if "$PY" -c "import pytest_timeout" 2>/dev/null; then
    TIMEOUT_ARGS=(--timeout=120)
fi
ARGS=(-q -rfE -p no:cacheprovider --durations=15 ${TIMEOUT_ARGS[@]+"${TIMEOUT_ARGS[@]}"})
LOG=/dev/null
if [ -n "${OUT:-}" ]; then
    mkdir -p "$OUT"
    ARGS+=(--junitxml="$OUT/junit-gpu.xml")
    LOG="$OUT/pytest-gpu.log"
fi

echo "== pytest tests/gpu ${ARGS[*]} $*"
start=$(date +%s)
"$PY" -m pytest tests/gpu "${ARGS[@]}" "$@" 2>&1 | tee "$LOG"
rc=${PIPESTATUS[0]}
end=$(date +%s)

if [ "${SWEEP:-0}" = "1" ]; then
    echo "== opinfo sweep (CPU vs cuda, every OpInfo sample)"
    SLOG=${OUT:+$OUT/opinfo-sweep.txt}
    "$PY" tests/gpu/opinfo_sweep.py 2>&1 | tee "${SLOG:-/dev/null}" | tail -40
fi

echo "== summary"
echo "exit code: $rc   wall: $((end - start)) s"
if ! "$PY" -c "import dagrad, sys; sys.exit(0 if dagrad.cuda.is_available() else 1)" 2>/dev/null
then
    echo "WARNING: dagrad sees no CuPy GPU here: the CUDA tests were SKIPPED, not run"
fi
if [ -n "${OUT:-}" ]; then
    grep -E "^(FAILED|ERROR) " "$OUT/pytest-gpu.log" | sed 's/^/  /' | head -60
    tail -n 1 "$OUT/pytest-gpu.log"
    echo "log: $OUT/pytest-gpu.log   junit: $OUT/junit-gpu.xml"
fi
exit "$rc"
