// Checking a call's arguments against a PrimFunc's signature, for every backend.
#pragma once

#include <cstdint>
#include <map>
#include <vector>

#include "ir/IR.h"
#include "tilescale/runtime.h"

namespace tilescale::runtime {

// Values of the symbolic dimensions and of the integer scalar parameters, as bound by the arguments.
// (Float scalars are read from the arguments themselves.)
using Bindings = std::map<const ir::VarNode*, std::int64_t>;

// RuntimeError naming the kernel and parameter unless: the count matches, every tensor parameter gets
// a tensor and every scalar one a number (Arg's rules), every tensor has the parameter's dtype and
// rank, static dimensions match, each symbolic dimension is bound to one value by every tensor that
// uses it, and every tensor lives on `device`.
// Also RuntimeError when a tensor's extent does not fit the type of the symbolic dimension it binds,
// or a dimension derived from them overflows its type, or when a parameter the kernel writes
// (`written[i]`, from ops::written_buffers; none when empty) has stride 0 in a dimension of extent
// above 1: its elements would share addresses, and which write lands would be undefined. Inputs may
// (a broadcast).
Bindings check_arguments(const ir::PrimFuncNode& func, const std::vector<Arg>& args, const Device& device,
                         const std::vector<bool>& written = {});

// What a float32 scalar parameter receives from `arg`, an argument check_arguments accepted for it.
float float_argument(const Arg& arg);

// The grid extents of the program's T::Kernel (one per program), as expressions of its symbolic
// dimensions and scalar parameters. A walk over the body: look it up once per compiled kernel.
const std::vector<ir::Expr>& kernel_grid(const ir::PrimFuncNode& func);

// RuntimeError naming the dimension, the extent's expression and the bindings when an extent of
// `grid` (kernel_grid of kernel `kernel`) is negative for `bindings` (0 is fine: nothing runs).
// Both backends call it before running, so they refuse the same calls with the same message.
void check_grid(const std::string& kernel, const std::vector<ir::Expr>& grid, const Bindings& bindings);

}  // namespace tilescale::runtime
