// What the tests of tests/passes share: a pass's input and output as printed IR, so that each test
// states a pass's effect as a before/after pair (the printed IR is stable enough to be expected
// output).
#pragma once

#include <functional>
#include <string>

#include "tilescale/lang.h"
#include "tilescale/runtime.h"

namespace tilescale::testing {

struct AroundPass {
  std::string before;  // the IR the pass receives (after the passes before it)
  std::string after;   // the IR it returns
};

// Runs `func` through the pipeline of `target` up to pass `pass` (CUDA: for sm_`sm`, TMA allowed
// when `tma`).
AroundPass around_pass(const lang::PrimFunc& func, const std::string& pass, Target target = Target::CUDA, int sm = 90, bool tma = true);

// The README GEMM's main loop (128x128x32 tiles, 3 stages, 128 threads) over a 256^3 problem: A and B
// float16, C of `c_dtype`; after the loop `epilogue` (default: T::copy(C_local, C's tile)).
struct ReadmeGemm {
  bool persistent = false;
  DataType c_dtype = DataType::Float32;
  std::function<void(lang::Buffer C, lang::Buffer C_local, lang::Expr bx, lang::Expr by)> epilogue;
};
lang::PrimFunc readme_gemm(const ReadmeGemm& options = {});

// One 128x128x32 gemm (clear_accum) of two float16 tiles the threads copy into shared memory.
lang::PrimFunc one_gemm(int threads = 128);

// The statements of the T::Kernel in printed IR, unindented to the kernel body's level: what comes
// before them (the signature, the `with T.Kernel`) is dropped, so expected strings are short.
std::string kernel_body(const std::string& printed);

}  // namespace tilescale::testing
