// Checking a call's arguments against a PrimFunc's signature, for every backend.
#pragma once

#include <cstdint>
#include <map>
#include <vector>

#include "ir/IR.h"
#include "tilescale/tensor.h"

namespace tilescale::runtime {

// Values of the symbolic dimensions, as bound by the arguments.
using Bindings = std::map<const ir::VarNode*, std::int64_t>;

// RuntimeError naming the kernel and parameter unless: the count matches, every tensor has the
// parameter's dtype and rank, static dimensions match, each symbolic dimension is bound to one
// value by every tensor that uses it, and every tensor lives on `device`.
// Also RuntimeError when a tensor's extent does not fit the type of the symbolic dimension it binds,
// or a dimension derived from them overflows its type, or when a parameter the kernel writes
// (`written[i]`, from ops::written_buffers; none when empty) has stride 0 in a dimension of extent
// above 1: its elements would share addresses, and which write lands would be undefined. Inputs may
// (a broadcast).
Bindings check_arguments(const ir::PrimFuncNode& func, const std::vector<Tensor>& args, const Device& device,
                         const std::vector<bool>& written = {});

// RuntimeError naming the dimension, the extent's expression and the bindings when an extent of the
// program's T::Kernel grid is negative for `bindings` (0 is fine: nothing runs). Both backends call
// it before running, so they refuse the same calls with the same message.
void check_grid(const ir::PrimFuncNode& func, const Bindings& bindings);

}  // namespace tilescale::runtime
