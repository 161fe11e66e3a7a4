// The copy's typed record: how the CUDA backend moves its elements, decided by the pass
// plan_copies (passes/plan_copies.h) and read by the copy's lowering (copy.cc).
//
//   Scalar          element by element
//   Vector          `vector` elements per access (uint4 for 16 bytes...), element by element when
//                   a global side's rows or start are not vector-aligned at run time
//   CpAsync         global -> shared as cp.async of `vector` elements (the same fallback); outside a
//                   pipeline's async_copies the copy waits for its own group
//   Registers       fragment <-> fragment, or fragment <-> memory register by register
//   RegisterVector  fragment <-> memory, `vector` registers per access (the same fallback)
//   Stmatrix        fragment -> shared 16-bit tile by stmatrix.x4, 8 registers at a time (sm_90)
//
//   T.copy(A[by * 128 : +128, k * 32 : +32], A_shared, path="cp_async", vector=8)
#pragma once

#include <cstdint>
#include <functional>
#include <optional>

#include "ir/IR.h"
#include "layout/layout.h"

namespace tilescale::ops {

enum class CopyPath { Scalar, Vector, CpAsync, Registers, RegisterVector, Stmatrix };

struct CopyPlan {
  CopyPath path = CopyPath::Scalar;
  std::int64_t vector = 1;  // elements (Vector, CpAsync) or registers (RegisterVector) per access
  ir::Attrs encode() const;
  // The plan recorded in copy `op`'s attrs; nullopt before plan_copies.
  static std::optional<CopyPlan> decode(const ir::TileOpNode& op);
};

// The plan for copy `op` run by `threads` threads on sm_`sm`, fragments' layouts by `layout_of`.
CopyPlan plan_copy(const ir::TileOpNode& op, int threads, int sm, const std::function<const layout::Fragment&(const ir::BufferNode&)>& layout_of);

}  // namespace tilescale::ops
