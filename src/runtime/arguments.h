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
Bindings check_arguments(const ir::PrimFuncNode& func, const std::vector<Tensor>& args, const Device& device);

}  // namespace tilescale::runtime
