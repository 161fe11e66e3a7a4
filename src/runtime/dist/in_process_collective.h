// The Collective of ranks that are threads of one process (the local transport).
#pragma once

#include <condition_variable>
#include <map>
#include <mutex>
#include <optional>

#include "runtime/dist/gpu_transport.h"

namespace tilescale::dist {

class InProcessCollective final : public Collective {
 public:
  explicit InProcessCollective(int ranks) : ranks_(ranks) {}
  std::vector<Bytes> all_gather(int rank, const std::string& key, const Bytes& mine) override;
  void barrier(int rank) override;
  void stop(const std::string& why) override;

 private:
  void throw_if_stopped() const;  // with mu_ held

  const int ranks_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::map<std::string, std::vector<std::optional<Bytes>>> gathers_;
  std::map<std::string, int> taken_;  // how many ranks have taken a gather's result
  std::int64_t barrier_generation_ = 0;
  int barrier_arrived_ = 0;
  std::string stopped_;  // "" while running
};

}  // namespace tilescale::dist
