// The CUDA C++ code generator: a printer of thread-level IR.
//
// Input: a PrimFunc after the CUDA pipeline (src/pipeline.cc), whose last pass, lower_to_threads,
// leaves thread-level IR: device calls, loops and branches over the thread index, register arrays,
// shared buffers placed in the one dynamic allocation (shared_memory records), scopes for warp
// roles, pipeline stages and persistent grid points. Output: one `extern "C" __global__` kernel
// that includes only device/tilescale/*.h, plus what the runtime needs to launch it
// (kernel_spec.h): its signature (tensors, symbolic dimensions, scalars, the tensors' strides, TMA
// descriptors), shared memory size and launch bounds. Every decision was taken by a pass; the
// generator names things, addresses staged and swizzled shared tiles, and prints. The one text it
// builds for a statement is a distributed builtin's call (ops/builtin.h, through LowerContext).
#pragma once

#include <string>

#include "codegen/cuda/kernel_spec.h"
#include "ops/lower_context.h"
#include "ops/thread_level.h"

namespace tilescale::cuda {

// The target of an arch name: sm_80, sm_86, sm_87, sm_89, sm_90 or sm_90a (both give sm_90a code).
// CompileError naming the reason for anything else: older than sm_80, newer than sm_90a (sm_100a
// and later lack wgmma), not an architecture, or not of the form sm_XX[a].
Target target_for_arch(const std::string& arch);

// With `log`, records there how each For, If and While of the program was compiled (diverging or
// not; the statements of tile ops' and Parallel nests' expansions are not the program's).
KernelSpec generate(const ir::PrimFunc& func, const Target& target, ops::ThreadLevelLog* log = nullptr);

}  // namespace tilescale::cuda
