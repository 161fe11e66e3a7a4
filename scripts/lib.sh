# Shared by the scripts in this folder (sourced, not run): the repository root, the build folder,
# and installing the few tools the build needs when they are missing.

TS_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TS_BUILD="${TILESCALE_BUILD_DIR:-$TS_ROOT/build}"
TS_JOBS="${TILESCALE_JOBS:-$(nproc 2>/dev/null || echo 2)}"

ts_say() { printf '==> %s\n' "$*"; }
ts_die() { printf 'error: %s\n' "$*" >&2; exit 1; }

ts_has_gtest() {
  local d
  for d in /usr/include /usr/local/include; do
    [ -f "$d/gtest/gtest.h" ] && return 0
  done
  return 1
}

# cmake >= 3.22 (CMakeLists.txt's minimum).
ts_cmake_ok() {
  command -v cmake >/dev/null 2>&1 || return 1
  local v major minor
  v="$(cmake --version | head -n1 | awk '{print $3}')"
  major="${v%%.*}"; minor="${v#*.}"; minor="${minor%%.*}"
  [ "$major" -gt 3 ] || { [ "$major" -eq 3 ] && [ "$minor" -ge 22 ]; }
}

# ts_ensure_tools [gtest]: installs cmake, ninja, g++ (and GoogleTest when asked) with apt-get, but
# only those that are missing; then makes sure the CUDA headers are there (below).
ts_ensure_tools() {
  local missing=()
  ts_cmake_ok || missing+=(cmake)
  command -v ninja >/dev/null 2>&1 || missing+=(ninja-build)
  command -v g++ >/dev/null 2>&1 || missing+=(g++)
  if [ "${1:-}" = gtest ] && ! ts_has_gtest; then missing+=(libgtest-dev); fi
  if [ ${#missing[@]} -gt 0 ]; then
    ts_apt_install "${missing[@]}"
    ts_cmake_ok || ts_die "cmake 3.22 or newer is needed; found: $(cmake --version 2>/dev/null | head -n1)"
  fi
  ts_ensure_cuda_headers
}

ts_apt_install() {
  ts_say "installing missing packages: $*"
  command -v apt-get >/dev/null 2>&1 || ts_die "missing $* and no apt-get to install them; install them and run again"
  local sudo=()
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null 2>&1 || ts_die "missing $*; run as root or install them"
    sudo=(sudo)
  fi
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@"
}

# The build needs the CUDA toolkit's headers only (cmake/cuda_headers.cmake): without a toolkit,
# CMake fetches them, with libnvrtc and libnvJitLink, from NVIDIA's pip wheels into
# $TS_BUILD/_deps/cuda, which then serves as CUDA_HOME for the NVRTC compile-only tests.
# TILESCALE_CUDA_FROM_PIP=1 takes the wheels even when a toolkit is installed.
ts_ensure_cuda_headers() {
  python3 -m pip --version >/dev/null 2>&1 || ts_apt_install python3 python3-pip
}

# After configuring: the fetched CUDA libraries serve the JIT when CMake took the wheels.
ts_use_fetched_cuda() {
  if [ -f "$TS_BUILD/_deps/cuda/include/cuda.h" ] &&
     grep -q "^TILESCALE_CUDA_INCLUDE_DIR:PATH=$TS_BUILD/_deps/cuda/include$" "$TS_BUILD/CMakeCache.txt"; then
    export CUDA_HOME="$TS_BUILD/_deps/cuda"
    ts_say "using CUDA headers and NVRTC from $CUDA_HOME (NVIDIA's pip wheels)"
  fi
}

# ts_configure [cmake args...]: configures the Release build in $TS_BUILD (Ninja on first use).
# ts_ensure_nvshmem_headers: the NVSHMEM device headers (pip wheel nvidia-nvshmem-cu13) that the
# distributed examples' compile-only tests build against; without them those tests are skipped,
# with the reason.
ts_ensure_nvshmem_headers() {
  [ -n "${NVSHMEM_HOME:-}" ] && return 0
  python3 -c 'import nvidia.nvshmem' 2>/dev/null && return 0
  ts_say "installing the NVSHMEM headers (pip: nvidia-nvshmem-cu13)"
  python3 -m pip install --user --quiet nvidia-nvshmem-cu13 2>/dev/null ||
    python3 -m pip install --user --quiet --break-system-packages nvidia-nvshmem-cu13 2>/dev/null ||
    ts_say "could not install nvidia-nvshmem-cu13: the NVSHMEM compile tests will be skipped"
}

ts_configure() {
  local generator=()
  [ -f "$TS_BUILD/CMakeCache.txt" ] || generator=(-G Ninja)
  local from_pip=OFF
  [ "${TILESCALE_CUDA_FROM_PIP:-0}" = 0 ] || from_pip=ON
  cmake -S "$TS_ROOT" -B "$TS_BUILD" "${generator[@]}" -DCMAKE_BUILD_TYPE=Release -DTILESCALE_CUDA_FROM_PIP=$from_pip "$@" \
    >/dev/null ||
    ts_die "cmake failed to configure $TS_BUILD"
  ts_use_fetched_cuda
}

# ts_python_tests: installs the Python package (pyproject.toml: scikit-build-core + nanobind) into a
# venv under the build folder and runs its pytest suite. The module builds in $TS_BUILD itself (the
# tests stay on), so the library already built there is reused rather than compiled again. pytest's
# exit status 5 (no tests collected) counts as a failure.
ts_python_tests() {
  local venv="$TS_BUILD/python-venv"
  if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv "$venv" 2>/dev/null || { rm -rf "$venv"; ts_apt_install python3-venv && python3 -m venv "$venv"; } ||
      ts_die "could not create a Python venv in $venv"
  fi
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check numpy pytest "nanobind>=2.0" \
    "scikit-build-core>=0.10" || ts_die "could not install the Python package's build and test dependencies"
  ts_say "installing the Python package into $venv"
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-build-isolation --no-deps \
    --config-settings=build-dir="$TS_BUILD" --config-settings=cmake.define.TILESCALE_BUILD_TESTS=ON \
    "$TS_ROOT" || return 1
  ts_say "running the Python tests"
  local rc=0
  (cd "$TS_BUILD" && "$venv/bin/python" -m pytest -q -rs "$TS_ROOT/python/tests") || rc=$?
  if [ "$rc" -eq 5 ]; then
    echo "error: pytest collected no tests; a test run with zero tests is a failure"
    return 1
  fi
  return "$rc"
}
