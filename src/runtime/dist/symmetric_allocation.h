// The rule of a collective allocation, shared by every transport: the k-th allocation of every
// rank must ask for the same thing, and the heap must have room.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace tilescale::dist {

inline constexpr std::size_t kHeapAlignment = 256;  // every symmetric allocation starts on this boundary

struct AllocationRequest {
  std::size_t bytes = 0;
  std::string what;  // "float16[64, 32]"
};

struct AllocationDecision {
  std::size_t offset = 0;  // where it starts in every rank's heap
  std::string error;       // "" when granted; else the RuntimeError message every rank raises
};

// Allocation #k, given every rank's request (rank order), `used` bytes of the heap taken so far and
// `heap_bytes` in all. Granted at the next kHeapAlignment boundary; refused when the requests
// differ (the message lists each rank's) or the heap has no room.
AllocationDecision decide_allocation(int k, const std::vector<AllocationRequest>& requests, std::size_t used,
                                     std::size_t heap_bytes);

}  // namespace tilescale::dist
