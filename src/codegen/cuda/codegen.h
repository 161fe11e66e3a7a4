// The CUDA C++ code generator.
//
// Input: a PrimFunc after the CUDA pipeline (fragment layouts, gemm warp arrangements and the
// shared-memory plan recorded as annotations). Output: one `extern "C" __global__` kernel that
// includes only device/tilescale/*.h, plus what the runtime needs to launch it (kernel_spec.h).
//
// How the tile level becomes thread level:
//  * a T::Parallel nest is walked over the registers of its anchor fragment (the one it indexes
//    with exactly its loop variables; a default partition of the nest when there is none): each
//    thread visits the elements it owns, loop variables become expressions of the thread index,
//    and every fragment access becomes a fixed register number. The generator checks, by
//    enumerating threads, that each fragment access lands in a register the thread owns, and
//    raises a CompileError naming both buffers and layouts otherwise;
//  * tile ops emit their own code (src/ops/*.cc, `lower_cuda`);
//  * Pipelined loops with num_stages >= 2 keep num_stages copies of the shared buffers their
//    T::copy statements fill; the copies go out as cp.async groups num_stages - 1 iterations ahead;
//  * __syncthreads() goes between statements of uniform control flow where one writes shared
//    memory that the next reads or writes (or reads what the next overwrites), and at the end of a
//    loop body with such a hazard between iterations; never inside a For, If or While that
//    diverges between threads (src/ops/thread_level.h, the analysis the CPU backend uses too).
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

// With `log`, records there how each For, If and While was compiled (diverging or not).
KernelSpec generate(const ir::PrimFunc& func, const Target& target, ops::ThreadLevelLog* log = nullptr);

}  // namespace tilescale::cuda
