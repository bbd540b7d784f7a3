#!/usr/bin/env bash
# Quill vs whirr vs expman-rs: logging throughput, caller latency, peak memory and SIGKILL survival, side by
# side in one run.
#
#   bench/peers/run.sh [--skip-build] [--quill-bin PATH] [--quill-library PATH] [--python-package DIR]
#                      [--tools quill,quill-python,expman,whirr] [--steps 333334] [--repeats 3]
#                      [--memory-steps 1000000] [--kill-after 1.0] [--latency-calls 100000] [--out FILE]
#
# The peers are installed from PyPI into a throwaway virtualenv made here and deleted at the end, and so is
# Quill's Python package (`QUILL_LIBRARY=<release libQuillC.so> pip install ./python`, tool quill-python).
# Quill's Swift worker is the release build of `quill-peer-bench`, the library the release libQuillC.so
# (both built here unless --skip-build). A tool whose binary or library is missing is skipped with a
# message and the others still run. The Markdown report goes to stdout, progress to stderr.
set -euo pipefail

WHIRR_SPEC="${WHIRR_SPEC:-whirr==0.5.3}"
EXPMAN_SPEC="${EXPMAN_SPEC:-expman-rs==1.3.0}"

usage() { sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'; }

invoked_from="$(pwd)"
absolute() { case "$1" in /*) printf '%s' "$1" ;; *) printf '%s/%s' "$invoked_from" "$1" ;; esac; }

build=1
quill_bin=""
quill_library=""
python_package=""
tools="quill,quill-python,expman,whirr"
args=()
while [ $# -gt 0 ]; do
    case "$1" in
        --skip-build) build=0 ;;
        --quill-bin) quill_bin="$(absolute "${2:?--quill-bin needs a path}")"; shift ;;
        --quill-bin=*) quill_bin="$(absolute "${1#*=}")" ;;
        --quill-library) quill_library="$(absolute "${2:?--quill-library needs a path}")"; shift ;;
        --quill-library=*) quill_library="$(absolute "${1#*=}")" ;;
        --python-package) python_package="$(absolute "${2:?--python-package needs a directory}")"; shift ;;
        --python-package=*) python_package="$(absolute "${1#*=}")" ;;
        --tools) tools="${2:?--tools needs a list}"; args+=(--tools "$2"); shift ;;
        --tools=*) tools="${1#*=}"; args+=("$1") ;;
        --out) args+=(--out "$(absolute "${2:?--out needs a path}")"); shift ;;
        --out=*) args+=(--out "$(absolute "${1#*=}")") ;;
        -h|--help) usage; exit 0 ;;
        *) args+=("$1") ;;
    esac
    shift
done

cd "$(dirname "$0")/../.."
repo="$(pwd)"
# The benchmark executables are part of the package only when QUILL_EXTRAS is set (see Package.swift).
export QUILL_EXTRAS=1

# ---------------------------------------------------------------- Quill's release binary
case ",$tools," in
    *,quill,*)
        if [ -z "$quill_bin" ]; then
            if [ "$build" = 1 ]; then
                echo "==> building quill-peer-bench (release)" >&2
                if ! swift build -c release --product quill-peer-bench >&2; then
                    echo "*** swift build failed: Quill will be skipped ***" >&2
                fi
            fi
            bin_dir=""
            if command -v swift >/dev/null 2>&1; then
                bin_dir="$(timeout 120 swift build -c release --show-bin-path 2>/dev/null || true)"
            fi
            [ -n "$bin_dir" ] || bin_dir="$repo/.build/release"
            quill_bin="$bin_dir/quill-peer-bench"
        fi
        if [ -x "$quill_bin" ]; then
            newer="$(find "$repo/Sources" "$repo/bench/peers/QuillPeerBench" "$repo/Package.swift" -newer "$quill_bin" -type f 2>/dev/null | head -1 || true)"
            if [ "$build" = 0 ] && [ -n "$newer" ]; then
                echo "note: $quill_bin is older than $newer (run without --skip-build to rebuild)" >&2
            fi
        else
            echo "*** quill-peer-bench not found at $quill_bin: Quill will be skipped ***" >&2
        fi
        ;;
esac

# ---------------------------------------------------------------- libQuillC.so (release) for quill-python
[ -n "$python_package" ] || python_package="$repo/python"
case ",$tools," in
    *,quill-python,*)
        if [ -z "$quill_library" ]; then
            if [ "$build" = 1 ]; then
                echo "==> building libQuillC.so (release)" >&2
                if ! swift build -c release --product QuillC >&2; then
                    echo "*** swift build of QuillC failed: quill-python will be skipped ***" >&2
                fi
            fi
            lib_dir=""
            if command -v swift >/dev/null 2>&1; then
                lib_dir="$(timeout 120 swift build -c release --show-bin-path 2>/dev/null || true)"
            fi
            [ -n "$lib_dir" ] || lib_dir="$repo/.build/release"
            quill_library="$lib_dir/libQuillC.so"
        fi
        if [ -f "$quill_library" ]; then
            newer="$(find "$repo/Sources" "$repo/Package.swift" -newer "$quill_library" -type f 2>/dev/null | head -1 || true)"
            if [ "$build" = 0 ] && [ -n "$newer" ]; then
                echo "note: $quill_library is older than $newer (run without --skip-build to rebuild)" >&2
            fi
        else
            echo "*** libQuillC.so not found at $quill_library: quill-python will be skipped ***" >&2
        fi
        ;;
esac

# ---------------------------------------------------------------- throwaway virtualenv with the peers
work="$(mktemp -d "${TMPDIR:-/tmp}/quill-peers-venv.XXXXXX")"
trap 'rm -rf "$work"' EXIT
trap 'exit 130' INT TERM
echo "==> installing $WHIRR_SPEC and $EXPMAN_SPEC from PyPI into a throwaway virtualenv ($work)" >&2
python3 -m venv "$work/venv"
"$work/venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-input "$WHIRR_SPEC" "$EXPMAN_SPEC" >&2
case ",$tools," in
    *,quill-python,*)
        if [ -f "$quill_library" ] && [ -f "$python_package/pyproject.toml" ]; then
            echo "==> installing the quill package from $python_package with QUILL_LIBRARY=$quill_library" >&2
            # A copy of the package source, so the build leaves nothing behind in the repository.
            cp -R "$python_package" "$work/python-src"
            rm -rf "$work/python-src/build" "$work/python-src"/src/*.egg-info
            if ! QUILL_LIBRARY="$quill_library" "$work/venv/bin/python" -m pip install --quiet \
                    --disable-pip-version-check --no-input "$work/python-src" >&2; then
                echo "*** pip install of the quill package failed: quill-python will be skipped ***" >&2
            fi
        elif [ -f "$quill_library" ]; then
            echo "*** no Python package at $python_package (pyproject.toml): quill-python will be skipped ***" >&2
        fi
        ;;
esac

echo "==> running ($(nproc) cores, Linux $(uname -r))" >&2
"$work/venv/bin/python" "$repo/bench/peers/peers.py" compare --quill-bin "$quill_bin" ${args[@]+"${args[@]}"}
