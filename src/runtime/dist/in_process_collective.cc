#include "runtime/dist/in_process_collective.h"

#include "tilescale/errors.h"

namespace tilescale::dist {

void InProcessCollective::throw_if_stopped() const {
  if (!stopped_.empty()) throw RuntimeError(stopped_);
}

std::vector<Bytes> InProcessCollective::all_gather(int rank, const std::string& key, const Bytes& mine) {
  std::unique_lock<std::mutex> lock(mu_);
  throw_if_stopped();
  auto& slots = gathers_[key];
  if (slots.empty()) slots.resize(static_cast<size_t>(ranks_));
  TS_ICHECK(!slots[rank], "rank ", rank, " gathered ", key, " twice");
  slots[rank] = mine;
  cv_.notify_all();
  cv_.wait(lock, [&] {
    if (!stopped_.empty()) return true;
    for (const auto& s : slots)
      if (!s) return false;
    return true;
  });
  throw_if_stopped();
  std::vector<Bytes> out;
  for (const auto& s : slots) out.push_back(*s);
  if (++taken_[key] == ranks_) {
    gathers_.erase(key);
    taken_.erase(key);
  }
  return out;
}

void InProcessCollective::barrier(int) {
  std::unique_lock<std::mutex> lock(mu_);
  throw_if_stopped();
  const std::int64_t generation = barrier_generation_;
  if (++barrier_arrived_ == ranks_) {
    barrier_arrived_ = 0;
    ++barrier_generation_;
    cv_.notify_all();
    return;
  }
  cv_.wait(lock, [&] { return barrier_generation_ != generation || !stopped_.empty(); });
  if (barrier_generation_ == generation) throw_if_stopped();
}

void InProcessCollective::stop(const std::string& why) {
  std::lock_guard<std::mutex> lock(mu_);
  if (stopped_.empty()) stopped_ = "cannot go on because " + why;
  cv_.notify_all();
}

}  // namespace tilescale::dist
