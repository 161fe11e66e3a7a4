#pragma once

#include <cstdint>
#include <map>
#include <optional>

#include "ir/IR.h"
#include "ops/memory_access.h"

namespace tilescale::passes {

// plan_shared_memory's decisions, recorded in the IR as annotations: one encode and one decode
// each, and nothing else reads their keys.
//
// Where one shared buffer lives: `annotate("shared_memory", buf, offset=, stage_bytes=, stages=)`
// right after its Alloc.
struct SharedPlacement {
  std::int64_t offset = 0;       // bytes from the start of the kernel's dynamic shared memory
  std::int64_t stage_bytes = 0;  // one stage's bytes (a multiple of 128)
  std::int64_t stages = 1;       // copies, one per pipeline stage
  ir::Stmt encode(const ir::Buffer& buffer) const;
  static std::optional<SharedPlacement> decode(const ir::AnnotateNode& a);  // nullopt: another annotation
  bool overlaps(const SharedPlacement& o) const;  // some byte of one lies in the other
};
// The placed buffers that share bytes, for barrier placement (ops/memory_access.h).
ops::Aliases shared_aliases(const std::map<const ir::BufferNode*, SharedPlacement>& placements);
// What the kernel needs in all: `annotate("shared_memory_total", bytes=)` first in the kernel body.
struct SharedMemoryTotal {
  std::int64_t bytes = 0;
  ir::Stmt encode() const;
  static std::optional<SharedMemoryTotal> decode(const ir::AnnotateNode& a);  // nullopt: another annotation
};

// Places every shared buffer in the kernel's one dynamic shared-memory allocation, for the CUDA
// backend. A buffer that a Pipelined loop (num_stages >= 2) fills with T::copy gets one copy per
// stage. Buffers whose lifetimes (first to last use, counted in the kernel body's top-level
// statements; a buffer allocated early lives from its first use, not from its Alloc) do not
// overlap share space. Offsets are 128-byte aligned (the base is 1024-aligned).
// The result is an `annotate("shared_memory", buf, offset=..., stage_bytes=..., stages=...)` after
// each shared Alloc and the total in an `annotate("shared_memory_total", bytes=...)` first in the
// kernel body. A T::annotate_layout on a shared buffer is a CompileError: the tiles' layouts are
// the code generator's (swizzles for ldmatrix, TMA and wgmma), not yet the program's.
//
//   before:  A_shared = T.alloc_shared((128, 32), "float16")
//            for k in T.Pipelined(32, num_stages=3): T.copy(A[...], A_shared) ...
//   after:   A_shared = T.alloc_shared((128, 32), "float16")
//            T.annotate("shared_memory", A_shared, offset=0, stage_bytes=8192, stages=3)
ir::PrimFunc plan_shared_memory(const ir::PrimFunc& func);

}  // namespace tilescale::passes
