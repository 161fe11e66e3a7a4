#include "runtime/dist/symmetric_allocation.h"

#include "tilescale/errors.h"

namespace tilescale::dist {

using tilescale::detail::cat;

AllocationDecision decide_allocation(int k, const std::vector<AllocationRequest>& requests, std::size_t used,
                                     std::size_t heap_bytes) {
  TS_ICHECK(!requests.empty(), "an allocation without requests");
  const AllocationRequest& first = requests[0];
  bool same = true;
  for (const auto& r : requests) same &= r.bytes == first.bytes && r.what == first.what;
  if (!same) {
    std::string asked;
    for (std::size_t r = 0; r < requests.size(); ++r)
      asked += cat(r ? ", " : "", "rank ", r, " asked for ", requests[r].what, " (", requests[r].bytes, " bytes)");
    return {0, cat("cannot make symmetric allocation #", k, " because the ranks asked for different things: ", asked,
                   "; every rank must make the same allocations (shapes and dtypes) in the same order")};
  }
  const std::size_t offset = (used + kHeapAlignment - 1) / kHeapAlignment * kHeapAlignment;
  if (offset > heap_bytes || first.bytes > heap_bytes - offset)
    return {0, cat("cannot make symmetric allocation #", k, " of ", first.what, " (", first.bytes,
                   " bytes) because the symmetric heap holds ", heap_bytes, " bytes per rank and ", used,
                   " are in use; raise dist::WorldOptions::heap_bytes")};
  return {offset, ""};
}

}  // namespace tilescale::dist
