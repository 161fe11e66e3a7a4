#include "runtime/dist/rendezvous_collective.h"

#include "tilescale/errors.h"

namespace tilescale::dist {

using tilescale::detail::cat;

std::vector<Bytes> RendezvousCollective::all_gather(int, const std::string& key, const Bytes& mine) {
  check();
  return rdv_->all_gather(key, mine);
}

void RendezvousCollective::barrier(int) {
  check();
  rdv_->barrier("host");
}

void RendezvousCollective::check() const {
  if (!stopped_.empty()) throw RuntimeError(stopped_);
}

std::vector<std::string> agree(Collective& collective, int rank, const std::string& transport, const std::string& step,
                               const std::string& status) {
  std::vector<std::string> payloads, errors;
  const auto all = collective.all_gather(rank, cat("setup:", step), Bytes(status.begin(), status.end()));
  for (std::size_t r = 0; r < all.size(); ++r) {
    const std::string s(all[r].begin(), all[r].end());
    if (s.rfind("ok", 0) == 0) payloads.push_back(s.size() > 3 ? s.substr(3) : "");
    else errors.push_back(cat("rank ", r, ": ", s.substr(6)));
  }
  if (!errors.empty()) {
    std::string list;
    for (const auto& e : errors) list += (list.empty() ? "" : "; ") + e;
    throw RuntimeError(cat("cannot set up the ", transport, " world (", step, ") because ",
                           errors.size() == 1 ? "a rank" : "ranks", " failed: ", list));
  }
  return payloads;
}

std::string error_status(const std::exception& e) { return cat("error ", e.what()); }

void check_same_heap_bytes(std::vector<std::string>& payloads, std::size_t heap_bytes, const std::string& transport) {
  std::string sizes;
  bool same = true;
  for (std::size_t p = 0; p < payloads.size(); ++p) {
    const std::size_t space = payloads[p].find(' ');
    const std::string usable = payloads[p].substr(0, space);
    payloads[p] = space == std::string::npos ? "" : payloads[p].substr(space + 1);
    same &= usable == std::to_string(heap_bytes);
    sizes += cat(p ? ", " : "", "rank ", p, " ", usable);
  }
  if (!same)
    throw RuntimeError(cat("cannot set up the ", transport, " world because the ranks asked for symmetric heaps of different "
                           "sizes (", sizes, " bytes); give every rank the same WorldOptions::heap_bytes"));
}

std::string to_hex(const void* data, std::size_t bytes) {
  static const char* digits = "0123456789abcdef";
  std::string out;
  for (std::size_t i = 0; i < bytes; ++i) {
    const auto b = static_cast<const unsigned char*>(data)[i];
    out += digits[b >> 4];
    out += digits[b & 15];
  }
  return out;
}

void from_hex(const std::string& hex, void* data, std::size_t bytes) {
  TS_ICHECK(hex.size() == 2 * bytes && hex.find_first_not_of("0123456789abcdef") == std::string::npos,
            "malformed handle '", hex, "' (", bytes, " bytes expected)");
  for (std::size_t i = 0; i < bytes; ++i)
    static_cast<unsigned char*>(data)[i] = static_cast<unsigned char>(std::stoi(hex.substr(2 * i, 2), nullptr, 16));
}

}  // namespace tilescale::dist
