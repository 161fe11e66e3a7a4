// The Collective of the transports with one process per rank (ipc, nvshmem): the launcher's
// rendezvous (rendezvous.h), and the setup steps those transports take together.
//
// A setup step is an all_gather of every rank's status, "ok <payload>" or "error <message>", so
// that one rank's failure is raised on every rank, naming it, instead of leaving the others waiting:
//
//   std::string status;
//   try { status = "ok " + make_my_heap(); } catch (const std::exception& e) { status = error_status(e); }
//   std::vector<std::string> payloads = agree(collective(), rank, "ipc", "heaps", status);
#pragma once

#include <exception>
#include <memory>
#include <string>
#include <vector>

#include "runtime/dist/gpu_transport.h"
#include "runtime/dist/rendezvous.h"

namespace tilescale::dist {

class RendezvousCollective final : public Collective {
 public:
  explicit RendezvousCollective(std::unique_ptr<Rendezvous> rdv) : rdv_(std::move(rdv)) {}
  std::vector<Bytes> all_gather(int rank, const std::string& key, const Bytes& mine) override;
  void barrier(int rank) override;
  void stop(const std::string& why) override { stopped_ = "cannot go on because " + why; }

 private:
  void check() const;
  std::unique_ptr<Rendezvous> rdv_;
  std::string stopped_;
};

// One setup step of a `transport` world: every rank's payload (its status after "ok ") when every
// rank is fine, else the same RuntimeError on every rank: "cannot set up the <transport> world
// (<step>) because a rank failed: rank 1: <message>".
std::vector<std::string> agree(Collective& collective, int rank, const std::string& transport, const std::string& step,
                               const std::string& status);

// The status of a setup step that threw on this rank: "error <what it said>".
std::string error_status(const std::exception& e);

// Every rank's usable heap size, the first word of its payload (which it removes), must be
// `heap_bytes`: allocations are decided by each rank alone. RuntimeError listing every rank's size.
void check_same_heap_bytes(std::vector<std::string>& payloads, std::size_t heap_bytes, const std::string& transport);

// Binary handles (a CUDA IPC handle, NVSHMEM's unique id) travel in payloads as hex digits.
std::string to_hex(const void* data, std::size_t bytes);
// InternalError unless `hex` holds exactly 2 * bytes hex digits.
void from_hex(const std::string& hex, void* data, std::size_t bytes);

}  // namespace tilescale::dist
