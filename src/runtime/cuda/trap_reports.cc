#include "runtime/cuda/trap_reports.h"

#include <map>
#include <mutex>

namespace tilescale::cuda {
namespace {

struct Sources {
  std::mutex mu;
  int next_id = 0;
  std::map<int, TrapReportSource> by_id;  // ids grow: map order is the order of adding
};

Sources& sources() {
  static Sources s;
  return s;
}

}  // namespace

int add_trap_report_source(TrapReportSource source) {
  Sources& s = sources();
  std::lock_guard<std::mutex> lock(s.mu);
  const int id = s.next_id++;
  s.by_id.emplace(id, std::move(source));
  return id;
}

void remove_trap_report_source(int id) {
  Sources& s = sources();
  std::lock_guard<std::mutex> lock(s.mu);
  s.by_id.erase(id);
}

std::string trap_reports() {
  Sources& s = sources();
  std::lock_guard<std::mutex> lock(s.mu);
  std::string all;
  for (const auto& [id, source] : s.by_id)
    if (std::string said = source(); !said.empty()) all += (all.empty() ? "" : "; ") + said;
  return all;
}

}  // namespace tilescale::cuda
