#pragma once

#include <optional>
#include <string>

#include "ir/IR.h"

namespace tilescale::passes {

// plan_tma_stores' decision for one copy, recorded right before it: `annotate("tma_store")` when
// it goes by TMA store, `annotate("no_tma_store", reason=...)` when it could not (for the
// generated code's header). One encode and one decode each; nothing else reads their keys.
struct TmaStorePlan {
  ir::Stmt encode() const;
  static std::optional<TmaStorePlan> decode(const ir::AnnotateNode& a);  // nullopt: another annotation
};
struct NoTmaStore {
  std::string reason;
  ir::Stmt encode() const;
  static std::optional<NoTmaStore> decode(const ir::AnnotateNode& a);  // nullopt: another annotation
};

// Decides, for sm_90 with TMA (`tma`), which copies from a whole single-stage shared tile into a
// global tensor at the top of the kernel body (run by every thread, so the lowering may synchronise
// them) go by TMA store: those tma.h allows, unless the kernel also reads that tensor or another
// statement writes it (the store's writes are ordered with other accesses only by a wait of its
// own). Idle before sm_90, without TMA and in distributed kernels.
//
//   before:  T.copy(C_shared, C[by * 128 : +128, bx * 128 : +128])
//   after:   T.annotate("tma_store")
//            T.copy(C_shared, C[by * 128 : +128, bx * 128 : +128])
ir::PrimFunc plan_tma_stores(const ir::PrimFunc& func, int sm, bool tma);

}  // namespace tilescale::passes
