// The rendezvous: a small key-value store over TCP through which the ranks of a multi-process
// world exchange a few bytes while they set up.
//
//   Rendezvous rdv(*launch_env(), std::chrono::seconds(60));  // rank 0 also serves
//   rdv.set("nvshmem-uid", uid_bytes);                          // on rank 0
//   Bytes uid = rdv.get("nvshmem-uid");                         // on every rank: waits for it
//   std::vector<Bytes> handles = rdv.all_gather("heap", my_handle);  // one per rank, rank order
//   rdv.barrier("heap-mapped");                                 // every rank has got this far
//
// The `ipc` transport (runtime/dist/ipc.cc) sets up through it: every setup step, every symmetric
// allocation and every host barrier is a call here.
//
// Rank 0 serves the store on MASTER_PORT (all IPv4 interfaces, SO_REUSEADDR) from a thread of its
// own, one more thread per connection; every rank, rank 0 included, connects to MASTER_ADDR as a
// client and says which rank it is and how many ranks the world has (a client of another world size,
// or a second client claiming a rank, is refused with an error on that client). Messages are
// length-prefixed. Calls on one Rendezvous must come from one thread at a time.
//
// Time is bounded everywhere by the constructor's timeout, so that a rank that fails (or never
// starts) makes the others fail with a message rather than wait forever:
//  * connecting: clients retry until the timeout ("is rank 0 running? is MASTER_PORT free?");
//  * get, barrier, all_gather: each waits up to the timeout; a barrier or all_gather that runs out
//    names the ranks that did not arrive;
//  * a lost connection to rank 0 (its process ended) is an error on the next call;
//  * destruction: each client says goodbye; rank 0's destructor waits until every rank has said
//    goodbye or closed its connection, or the timeout passes, then stops its server (the calls
//    still pending on other ranks then fail: their connection is lost).
// Every failure is a RuntimeError "cannot <X> because <Y>; <do Z>".
//
// Not built yet: authentication (any process that reaches the port can join), IPv6, and a rank 0
// that restarts; keys stay in the store until rank 0's Rendezvous is destroyed.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "runtime/dist/launch_env.h"
#include "tilescale/errors.h"

namespace tilescale::dist {

using Bytes = std::vector<std::uint8_t>;

class Rendezvous {
 public:
  // Joins the rendezvous of `env`'s world (serving it on rank 0). env.master_port 0 lets rank 0's
  // server take any free port, which port() then names; only rank 0 can join that way. RuntimeError
  // when rank 0 cannot listen on the port or a client cannot connect within `timeout`.
  Rendezvous(const LaunchEnv& env, std::chrono::milliseconds timeout);
  ~Rendezvous();
  Rendezvous(const Rendezvous&) = delete;
  Rendezvous& operator=(const Rendezvous&) = delete;

  int rank() const { return rank_; }
  int world_size() const { return world_size_; }
  int port() const { return port_; }  // of rank 0's server

  // Stores `value` under `key`; a key is set once (setting it again is a RuntimeError).
  void set(const std::string& key, const Bytes& value);
  // The value of `key`, waiting until some rank sets it.
  Bytes get(const std::string& key);
  // Returns when every rank has called barrier(name) as often as this one.
  void barrier(const std::string& name);
  // Every rank's `mine`, in rank order, once all have called all_gather(key, ...); a key is used
  // by one all_gather only.
  std::vector<Bytes> all_gather(const std::string& key, const Bytes& mine);

 private:
  class Server;
  // Sends one request and returns the reply's payload; throws on an error reply.
  Bytes call(const Bytes& request, const std::string& doing);
  // Closes the connection, for good, and returns the error "cannot <doing> because <why>".
  RuntimeError disconnect(const std::string& doing, const std::string& why);
  // Stores key's value; false when the key was already set.
  bool put(const std::string& key, const Bytes& value, const std::string& doing);
  // The values of `keys`, or the positions of those still unset when the timeout ran out.
  std::vector<Bytes> wait_for(const std::vector<std::string>& keys, std::vector<int>& missing,
                              const std::string& doing);
  std::vector<Bytes> gather(const std::string& key, const Bytes& mine, const std::string& doing);

  int rank_;
  int world_size_;
  std::string addr_;
  int port_;
  std::chrono::milliseconds timeout_;
  std::unique_ptr<Server> server_;  // rank 0 only
  int fd_ = -1;                     // this rank's connection to the server
  std::map<std::string, int> barriers_passed_;
};

}  // namespace tilescale::dist
