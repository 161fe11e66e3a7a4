#pragma once

#include <cstdint>

#include "ir/IR.h"

namespace tilescale::passes {

// The bytes of dynamic shared memory a block may use on sm_`sm` (beyond them a kernel cannot start).
std::int64_t shared_memory_limit(int sm);
// The 32-bit registers a fragment may take in each thread. A thread holds 255; what a kernel needs
// beyond spills to local memory, which is slow but works, until the arrays grow so large that
// NVRTC's register allocation runs for minutes (2048 registers: about 500 s).
inline constexpr std::int64_t kFragmentRegisterBudget = 1024;

// Refuses, before any layout search or code generation, buffers that cannot fit on the CUDA
// target `sm`: a shared buffer larger than the block's shared memory, or a fragment whose share of
// the block's threads needs more than kFragmentRegisterBudget registers (counted at best: its
// elements spread evenly over the threads, without replication). The program itself is returned
// unchanged. Without this check a 256x256 float32 fragment on 32 threads went to NVRTC and kept it
// busy for minutes, and 4096x4096 gemm tiles spent minutes in layout inference before their error.
//
//   C_local = T.alloc_fragment((256, 256), "float32")   # threads=32
//   → CompileError: cannot allocate fragment C_local [256, 256] float32 in gemm because it needs at
//     least 2048 registers in each of the block's 32 threads, more than the 1024 a fragment may
//     take (a thread holds 255; the rest spills to local memory); ...
ir::PrimFunc check_budgets(const ir::PrimFunc& func, int sm);

}  // namespace tilescale::passes
