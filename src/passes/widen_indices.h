#pragma once

#include "ir/IR.h"

namespace tilescale::passes {

// Computes the indices of global tensors in 64 bits wherever they could pass 2^31: in every
// dimension whose extent is not a constant of at most 2^30 (symbolic extents, whose size is known
// only at the launch, included). Element loads and stores and the base of tile-op regions are
// rewritten with ir::widen, so the arithmetic itself is 64-bit (not its wrapped result); both
// backends then address the same elements. Dimensions with small constant extents keep int32
// indices, which cost nothing extra; their offsets still reach 64 bits through the strides.
//
//   before:  C = T.Tensor((3000000001, 64), "float16")
//            C[by * 32 + i, bx * 128 + j] = ...
//   after:   C[int64(by) * 32L + int64(i), bx * 128 + j] = ...
ir::PrimFunc widen_indices(const ir::PrimFunc& func);

}  // namespace tilescale::passes
