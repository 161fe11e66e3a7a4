// The launch environment (runtime/dist/launch_env.h) of each launcher, with every error it raises,
// and the rendezvous store (runtime/dist/rendezvous.h) with 1 to 8 ranks as threads of this
// process on 127.0.0.1, with every error it raises. Timeouts are short so that each test takes well
// under a few seconds.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <memory>
#include <thread>

#include "runtime/dist/launch_env.h"
#include "runtime/dist/rendezvous.h"
#include "test_util.h"

namespace tilescale::test {
namespace {

using dist::Bytes;
using dist::LaunchEnv;
using dist::Rendezvous;
using namespace std::chrono_literals;

// ---------------------------------------------------------------------------------------------
// The launch environment

std::optional<LaunchEnv> env_of(const std::map<std::string, std::string>& vars) {
  return dist::launch_env_from([&](const char* name) -> const char* {
    auto it = vars.find(name);
    return it == vars.end() ? nullptr : it->second.c_str();
  });
}

const std::map<std::string, std::string> kTorchrun = {{"RANK", "5"},        {"WORLD_SIZE", "8"},
                                                      {"LOCAL_RANK", "1"},  {"LOCAL_WORLD_SIZE", "4"},
                                                      {"MASTER_ADDR", "node0"}, {"MASTER_PORT", "29500"}};

std::map<std::string, std::string> with(std::map<std::string, std::string> vars,
                                        const std::map<std::string, std::string>& changes) {
  for (const auto& [k, v] : changes) vars[k] = v;
  return vars;
}

TEST(LaunchEnv, NoLauncherVariablesIsNoLaunchEnv) {
  EXPECT_FALSE(env_of({}));
  EXPECT_FALSE(env_of({{"MASTER_ADDR", "node0"}, {"MASTER_PORT", "29500"}, {"RANK", ""}}));
}

TEST(LaunchEnv, ReadsTorchrun) {
  const auto env = env_of(kTorchrun);
  ASSERT_TRUE(env);
  EXPECT_EQ(env->launcher, "torchrun");
  EXPECT_EQ(env->rank, 5);
  EXPECT_EQ(env->world_size, 8);
  EXPECT_EQ(env->local_rank, 1);
  EXPECT_EQ(env->local_world_size, 4);
  EXPECT_EQ(env->master_addr, "node0");
  EXPECT_EQ(env->master_port, 29500);
}

TEST(LaunchEnv, ReadsMpirun) {
  const auto env = env_of({{"OMPI_COMM_WORLD_RANK", "3"},
                           {"OMPI_COMM_WORLD_SIZE", "4"},
                           {"OMPI_COMM_WORLD_LOCAL_RANK", "1"},
                           {"OMPI_COMM_WORLD_LOCAL_SIZE", "2"},
                           {"MASTER_ADDR", "10.0.0.1"},
                           {"MASTER_PORT", "1234"}});
  ASSERT_TRUE(env);
  EXPECT_EQ(env->launcher, "mpirun");
  EXPECT_EQ(env->rank, 3);
  EXPECT_EQ(env->world_size, 4);
  EXPECT_EQ(env->local_rank, 1);
  EXPECT_EQ(env->local_world_size, 2);
  EXPECT_EQ(env->master_addr, "10.0.0.1");
  EXPECT_EQ(env->master_port, 1234);
}

const std::map<std::string, std::string> kSrun = {{"SLURM_PROCID", "6"},       {"SLURM_NTASKS", "8"},
                                                  {"SLURM_LOCALID", "2"},      {"SLURM_NNODES", "2"},
                                                  {"MASTER_ADDR", "node0"}, {"MASTER_PORT", "29500"}};

TEST(LaunchEnv, ReadsSrunDerivingTasksPerNodeFromNodes) {
  const auto env = env_of(kSrun);
  ASSERT_TRUE(env);
  EXPECT_EQ(env->launcher, "srun");
  EXPECT_EQ(env->rank, 6);
  EXPECT_EQ(env->world_size, 8);
  EXPECT_EQ(env->local_rank, 2);
  EXPECT_EQ(env->local_world_size, 4);
}

TEST(LaunchEnv, ReadsSrunTasksPerNode) {
  const auto env = env_of(with(kSrun, {{"SLURM_NTASKS_PER_NODE", "8"}, {"SLURM_LOCALID", "6"}}));
  ASSERT_TRUE(env);
  EXPECT_EQ(env->local_world_size, 8);
  EXPECT_EQ(env->local_rank, 6);
}

TEST(LaunchEnv, TorchrunWinsOverMpirunAndSrun) {
  auto vars = with(kSrun, kTorchrun);
  vars["OMPI_COMM_WORLD_RANK"] = "0";
  const auto env = env_of(vars);
  ASSERT_TRUE(env);
  EXPECT_EQ(env->launcher, "torchrun");
  EXPECT_EQ(env->rank, 5);
}

TEST(LaunchEnv, MpirunWinsOverSrun) {
  const auto env = env_of(with(kSrun, {{"OMPI_COMM_WORLD_RANK", "0"},
                                       {"OMPI_COMM_WORLD_SIZE", "2"},
                                       {"OMPI_COMM_WORLD_LOCAL_RANK", "0"},
                                       {"OMPI_COMM_WORLD_LOCAL_SIZE", "2"}}));
  ASSERT_TRUE(env);
  EXPECT_EQ(env->launcher, "mpirun");
  EXPECT_EQ(env->world_size, 2);
}

TEST(LaunchEnv, OneRankWorldNeedsNoMaster) {
  const auto env = env_of({{"RANK", "0"}, {"WORLD_SIZE", "1"}, {"LOCAL_RANK", "0"}, {"LOCAL_WORLD_SIZE", "1"}});
  ASSERT_TRUE(env);
  EXPECT_EQ(env->master_addr, "127.0.0.1");
  EXPECT_EQ(env->master_port, 0);
}

TEST(LaunchEnvErrors, ValueNotAWholeNumber) {
  for (const char* bad : {"abc", "", " 5", "5x", "+5", "5.0", "99999999999"}) {
    if (!*bad) continue;  // empty is unset: covered below
    EXPECT_RUNTIME_ERROR(env_of(with(kTorchrun, {{"RANK", bad}})),
                         "cannot read the launch environment of torchrun (or tilescale launch) because RANK=" +
                             std::string(bad) + " is not a whole number from 0 to 7 (WORLD_SIZE=8); set RANK to a "
                                                "value in that range");
  }
}

TEST(LaunchEnvErrors, NegativeValue) {
  EXPECT_RUNTIME_ERROR(env_of(with(kTorchrun, {{"LOCAL_RANK", "-1"}})),
                       "because LOCAL_RANK=-1 is not a whole number from 0 to 3 (LOCAL_WORLD_SIZE=4)");
}

TEST(LaunchEnvErrors, WorldSizeBelowOne) {
  EXPECT_RUNTIME_ERROR(env_of(with(kTorchrun, {{"WORLD_SIZE", "0"}})),
                       "because WORLD_SIZE=0 is not a whole number from 1 to 2147483647; set WORLD_SIZE");
}

TEST(LaunchEnvErrors, RankNotBelowWorldSize) {
  EXPECT_RUNTIME_ERROR(env_of(with(kTorchrun, {{"RANK", "8"}})),
                       "because RANK=8 is not a whole number from 0 to 7 (WORLD_SIZE=8)");
  EXPECT_RUNTIME_ERROR(env_of(with(kSrun, {{"SLURM_PROCID", "8"}})),
                       "cannot read the launch environment of srun because SLURM_PROCID=8 is not a whole number from "
                       "0 to 7 (SLURM_NTASKS=8)");
}

TEST(LaunchEnvErrors, LocalRankNotBelowLocalWorldSize) {
  EXPECT_RUNTIME_ERROR(env_of(with(kTorchrun, {{"LOCAL_RANK", "4"}})),
                       "because LOCAL_RANK=4 is not a whole number from 0 to 3 (LOCAL_WORLD_SIZE=4)");
  EXPECT_RUNTIME_ERROR(env_of(with(kSrun, {{"SLURM_LOCALID", "4"}})),
                       "because SLURM_LOCALID=4 is not a whole number from 0 to 3 (4 tasks per node: "
                       "SLURM_NTASKS=8 over SLURM_NNODES=2)");
  EXPECT_RUNTIME_ERROR(env_of(with(kSrun, {{"SLURM_NTASKS_PER_NODE", "2"}})),
                       "because SLURM_LOCALID=2 is not a whole number from 0 to 1 (SLURM_NTASKS_PER_NODE=2)");
}

TEST(LaunchEnvErrors, LocalWorldSizeAboveWorldSize) {
  EXPECT_RUNTIME_ERROR(env_of(with(kTorchrun, {{"LOCAL_WORLD_SIZE", "9"}})),
                       "because LOCAL_WORLD_SIZE=9 is not a whole number from 1 to 8 (WORLD_SIZE=8)");
  EXPECT_RUNTIME_ERROR(env_of(with(kSrun, {{"SLURM_NTASKS_PER_NODE", "16"}})),
                       "because SLURM_NTASKS_PER_NODE=16 is not a whole number from 1 to 8 (SLURM_NTASKS=8)");
  EXPECT_RUNTIME_ERROR(env_of(with(kSrun, {{"SLURM_NNODES", "9"}})),
                       "because SLURM_NNODES=9 is not a whole number from 1 to 8 (SLURM_NTASKS=8)");
}

// torchrun's agent serves its own store on MASTER_PORT: the rendezvous takes the next port.
TEST(LaunchEnv, TorchrunAgentStoreMovesTheRendezvousToTheNextPort) {
  EXPECT_EQ(env_of(with(kTorchrun, {{"TORCHELASTIC_USE_AGENT_STORE", "True"}}))->master_port, 29501);
  EXPECT_EQ(env_of(with(kTorchrun, {{"TORCHELASTIC_USE_AGENT_STORE", "False"}}))->master_port, 29500);
  EXPECT_RUNTIME_ERROR(env_of(with(kTorchrun, {{"TORCHELASTIC_USE_AGENT_STORE", "True"}, {"MASTER_PORT", "65535"}})),
                       "because MASTER_PORT=65535 is torchrun's own store and the rendezvous takes the port after it; "
                       "give torchrun a lower --master-port");
}

TEST(LaunchEnvErrors, PortOutsideOneTo65535) {
  for (const char* port : {"0", "65536", "http"})
    EXPECT_RUNTIME_ERROR(env_of(with(kTorchrun, {{"MASTER_PORT", port}})),
                         "because MASTER_PORT=" + std::string(port) +
                             " is not a whole number from 1 to 65535; set MASTER_PORT to a value in that range");
}

TEST(LaunchEnvErrors, LauncherVariableMissing) {
  auto vars = kTorchrun;
  vars.erase("WORLD_SIZE");
  EXPECT_RUNTIME_ERROR(env_of(vars),
                       "cannot read the launch environment of torchrun (or tilescale launch) because RANK is set but "
                       "WORLD_SIZE is not; set all of RANK, WORLD_SIZE, LOCAL_RANK and LOCAL_WORLD_SIZE");
  EXPECT_RUNTIME_ERROR(env_of({{"OMPI_COMM_WORLD_LOCAL_RANK", "0"}}),
                       "cannot read the launch environment of mpirun because OMPI_COMM_WORLD_LOCAL_RANK is set but "
                       "OMPI_COMM_WORLD_SIZE is not; set all of OMPI_COMM_WORLD_RANK, OMPI_COMM_WORLD_SIZE, "
                       "OMPI_COMM_WORLD_LOCAL_RANK and OMPI_COMM_WORLD_LOCAL_SIZE");
}

TEST(LaunchEnvErrors, MasterMissingInAWorldOfManyRanks) {
  auto torchrun = kTorchrun;
  torchrun.erase("MASTER_ADDR");
  EXPECT_RUNTIME_ERROR(env_of(torchrun),
                       "cannot read the launch environment of torchrun (or tilescale launch) because MASTER_ADDR is "
                       "not set and the world has 8 ranks; set MASTER_ADDR to rank 0's host and MASTER_PORT to a free "
                       "port on it (torchrun and tilescale launch set both)");
  EXPECT_RUNTIME_ERROR(env_of({{"OMPI_COMM_WORLD_RANK", "0"},
                               {"OMPI_COMM_WORLD_SIZE", "2"},
                               {"OMPI_COMM_WORLD_LOCAL_RANK", "0"},
                               {"OMPI_COMM_WORLD_LOCAL_SIZE", "2"},
                               {"MASTER_ADDR", "node0"}}),
                       "cannot read the launch environment of mpirun because MASTER_PORT is not set and the world has "
                       "2 ranks",
                       "mpirun -x MASTER_ADDR=<host> -x MASTER_PORT=<port>");
  auto srun = kSrun;
  srun.erase("MASTER_ADDR");
  srun.erase("MASTER_PORT");
  EXPECT_RUNTIME_ERROR(env_of(srun), "because MASTER_ADDR and MASTER_PORT are not set and the world has 8 ranks",
                       "export MASTER_ADDR=<host> MASTER_PORT=<port> before srun");
}

TEST(LaunchEnvErrors, SrunTasksPerNodeUnknown) {
  auto vars = kSrun;
  vars.erase("SLURM_NNODES");
  EXPECT_RUNTIME_ERROR(env_of(vars),
                       "cannot read the launch environment of srun because neither SLURM_NTASKS_PER_NODE nor "
                       "SLURM_NNODES is set; launch with srun --ntasks-per-node=<tasks per node>");
  EXPECT_RUNTIME_ERROR(env_of(with(kSrun, {{"SLURM_NNODES", "3"}, {"SLURM_LOCALID", "0"}})),
                       "because SLURM_NTASKS=8 tasks do not divide evenly over SLURM_NNODES=3 nodes and "
                       "SLURM_NTASKS_PER_NODE is not set; launch with srun --ntasks-per-node");
}

// ---------------------------------------------------------------------------------------------
// The rendezvous

LaunchEnv world(int rank, int size, int port) {
  LaunchEnv env;
  env.rank = rank;
  env.world_size = size;
  env.local_rank = rank;
  env.local_world_size = size;
  env.master_port = port;
  env.launcher = "torchrun";
  return env;
}

// Runs `fn` on each rank of a `size`-rank world, one thread per rank, rank 0 serving on a free
// port; ranks in `absent` never join. Returns each rank's error message ("" for none).
std::vector<std::string> run_ranks(int size, std::chrono::milliseconds timeout,
                                   const std::function<void(Rendezvous&)>& fn, const std::vector<int>& absent = {}) {
  auto rank_0 = std::make_unique<Rendezvous>(world(0, size, 0), timeout);
  const int port = rank_0->port();
  std::vector<std::string> errors(size);
  std::vector<std::thread> threads;
  for (int r = 0; r < size; ++r) {
    if (std::find(absent.begin(), absent.end(), r) != absent.end()) continue;
    threads.emplace_back([&, r, rdv = r == 0 ? std::move(rank_0) : nullptr]() mutable {
      errors[r] = message_of([&] {
        if (!rdv) rdv = std::make_unique<Rendezvous>(world(r, size, port), timeout);
        fn(*rdv);
        rdv.reset();
      });
    });
  }
  for (auto& t : threads) t.join();
  return errors;
}

Bytes payload_of(int rank) {
  Bytes out(rank == 3 ? 0 : 1 + rank * 37 + (rank == 5 ? (1 << 20) : 0));  // one empty, one of 1 MiB
  for (std::size_t i = 0; i < out.size(); ++i) out[i] = static_cast<std::uint8_t>(rank * 31 + i);
  return out;
}

TEST(Rendezvous, OneRank) {
  Rendezvous rdv(world(0, 1, 0), 2s);
  EXPECT_GT(rdv.port(), 0);
  rdv.set("k", {1, 2, 3});
  EXPECT_EQ(rdv.get("k"), (Bytes{1, 2, 3}));
  rdv.barrier("b");
  rdv.barrier("b");
  EXPECT_EQ(rdv.all_gather("g", {7}), (std::vector<Bytes>{{7}}));
}

class RendezvousRanks : public ::testing::TestWithParam<int> {};

TEST_P(RendezvousRanks, ExchangesBytes) {
  const int n = GetParam();
  std::vector<std::vector<Bytes>> gathered(n);
  std::vector<Bytes> got(n);
  const auto errors = run_ranks(n, 5s, [&](Rendezvous& rdv) {
    const int r = rdv.rank();
    if (r == n - 1) rdv.set("from last", {42, static_cast<std::uint8_t>(n)});
    got[r] = rdv.get("from last");
    for (int i = 0; i < 3; ++i) rdv.barrier("loop");
    gathered[r] = rdv.all_gather("payloads", payload_of(r));
    rdv.barrier("done");
  });
  for (int r = 0; r < n; ++r) {
    EXPECT_EQ(errors[r], "") << "rank " << r;
    EXPECT_EQ(got[r], (Bytes{42, static_cast<std::uint8_t>(n)})) << "rank " << r;
    ASSERT_EQ(gathered[r].size(), static_cast<std::size_t>(n)) << "rank " << r;
    for (int p = 0; p < n; ++p) EXPECT_EQ(gathered[r][p], payload_of(p)) << "rank " << r << ", from rank " << p;
  }
}

INSTANTIATE_TEST_SUITE_P(Ranks, RendezvousRanks, ::testing::Values(1, 2, 4, 8));

TEST(Rendezvous, GetWaitsForALaterSet) {
  const auto errors = run_ranks(2, 3s, [&](Rendezvous& rdv) {
    if (rdv.rank() == 0) {
      std::this_thread::sleep_for(100ms);
      rdv.set("late", {9});
    } else {
      EXPECT_EQ(rdv.get("late"), Bytes{9});
    }
  });
  EXPECT_EQ(errors, (std::vector<std::string>{"", ""}));
}

// A socket listening on a free port of 127.0.0.1, and that port.
std::pair<int, int> listening_socket() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  EXPECT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  EXPECT_EQ(::listen(fd, 4), 0);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  return {fd, ntohs(a.sin_port)};
}

::testing::AssertionResult contains(const std::string& message, const std::string& part) {
  if (message.find(part) != std::string::npos) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "message lacks \"" << part << "\":\n  " << message;
}

TEST(RendezvousErrors, BarrierNamesTheRankThatNeverArrives) {
  const auto t0 = std::chrono::steady_clock::now();
  const auto errors = run_ranks(4, 300ms, [&](Rendezvous& rdv) {
    if (rdv.rank() != 3) rdv.barrier("setup");
  });
  for (int r = 0; r < 3; ++r)
    EXPECT_TRUE(contains(errors[r], "cannot pass rendezvous barrier 'setup' because rank 3 did not arrive within "
                                    "300 ms; check that every rank gets there (a rank that failed or ended early "
                                    "never does)"))
        << "rank " << r;
  EXPECT_EQ(errors[3], "");
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 2s);
}

TEST(RendezvousErrors, AllGatherNamesTheRanksThatNeverJoined) {
  const auto t0 = std::chrono::steady_clock::now();
  const auto errors = run_ranks(
      4, 300ms, [&](Rendezvous& rdv) { rdv.all_gather("ids", {1}); }, /*absent=*/{1, 3});
  for (int r : {0, 2})
    EXPECT_TRUE(contains(errors[r], "cannot all_gather rendezvous key 'ids' because ranks 1, 3 did not arrive within "
                                    "300 ms"))
        << "rank " << r;
  // Rank 0's destructor waits for the absent ranks no longer than the timeout.
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 2s);
}

TEST(RendezvousErrors, GetOfAKeyNobodySets) {
  Rendezvous rdv(world(0, 1, 0), 200ms);
  EXPECT_RUNTIME_ERROR(rdv.get("nvshmem-uid"),
                       "cannot get rendezvous key 'nvshmem-uid' because no rank set it within 200 ms; check that some "
                       "rank sets it (a rank that failed or ended early never does)");
}

TEST(RendezvousErrors, KeySetTwice) {
  Rendezvous rdv(world(0, 1, 0), 2s);
  rdv.set("k", {1});
  EXPECT_RUNTIME_ERROR(rdv.set("k", {2}),
                       "cannot set rendezvous key 'k' because it is already set; use a new key for each value");
  rdv.all_gather("g", {1});
  EXPECT_RUNTIME_ERROR(rdv.all_gather("g", {1}),
                       "cannot all_gather rendezvous key 'g' because this rank has already used that key; use a "
                       "new key for each all_gather");
}

TEST(RendezvousErrors, NoServer) {
  auto [fd, port] = listening_socket();
  ::close(fd);  // nothing listens there now
  // The last attempt's error is "Connection refused", or, on a loaded machine, a connect that ran
  // out of the time left ("Connection timed out").
  EXPECT_RUNTIME_ERROR(Rendezvous(world(1, 2, port), 200ms),
                       "cannot connect to the rendezvous server at 127.0.0.1:" + std::to_string(port) +
                           " because nothing accepted the connection within 200 ms (connect: Connection ",
                       "); is rank 0 running? is MASTER_PORT free? start rank 0 with the same MASTER_ADDR and "
                       "MASTER_PORT as this rank");
}

TEST(RendezvousErrors, UnknownHost) {
  LaunchEnv env = world(1, 2, 29500);
  env.master_addr = "no-such-host.invalid";
  EXPECT_RUNTIME_ERROR(Rendezvous(env, 200ms),
                       "cannot connect to the rendezvous server at no-such-host.invalid:29500 because "
                       "no-such-host.invalid is not an IPv4 address or a known host name (",
                       "); set MASTER_ADDR to rank 0's host");
}

TEST(RendezvousErrors, PortInUse) {
  auto [fd, port] = listening_socket();
  EXPECT_RUNTIME_ERROR(Rendezvous(world(0, 2, port), 200ms),
                       "cannot serve the rendezvous on port " + std::to_string(port) +
                           " because rank 0 cannot listen there (bind: Address already in use); is another process (an "
                           "earlier run?) using it? set MASTER_PORT to a free port");
  ::close(fd);
}

TEST(RendezvousErrors, WorldSizesDiffer) {
  Rendezvous rank_0(world(0, 2, 0), 300ms);  // its destructor waits that long for rank 1, refused
  EXPECT_RUNTIME_ERROR(Rendezvous(world(1, 3, rank_0.port()), 300ms),
                       "cannot join the rendezvous at 127.0.0.1:" + std::to_string(rank_0.port()) +
                           " because rank 0 serves a world of 2 ranks and rank 1 says it has 3; launch every rank with "
                           "the same world size");
}

TEST(RendezvousErrors, RankJoinsTwice) {
  Rendezvous rank_0(world(0, 2, 0), 300ms);
  Rendezvous rank_1(world(1, 2, rank_0.port()), 300ms);
  EXPECT_RUNTIME_ERROR(Rendezvous(world(1, 2, rank_0.port()), 300ms),
                       "because rank 1 has already joined; launch every rank with a distinct rank");
}

TEST(RendezvousErrors, RankZeroEnds) {
  auto rank_0 = std::make_unique<Rendezvous>(world(0, 2, 0), 100ms);
  const int port = rank_0->port();
  Rendezvous rank_1(world(1, 2, port), 2s);
  std::thread end_rank_0([&] { rank_0.reset(); });  // waits 100 ms for rank 1's goodbye, then stops
  const std::string server = "rank 0's rendezvous server at 127.0.0.1:" + std::to_string(port);
  EXPECT_RUNTIME_ERROR(rank_1.get("never"), "cannot get rendezvous key 'never' because the connection to " + server +
                                                " was lost; rank 0 has probably failed or ended: see its output");
  EXPECT_RUNTIME_ERROR(rank_1.barrier("after"),
                       "cannot pass rendezvous barrier 'after' because an earlier call lost the connection to " +
                           server);
  end_rank_0.join();
}

TEST(Rendezvous, ServerHangsUpOnAStranger) {
  Rendezvous rdv(world(0, 1, 0), 2s);
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(static_cast<std::uint16_t>(rdv.port()));
  ASSERT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  const timeval two_seconds{2, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &two_seconds, sizeof two_seconds);
  const char request[] = "GET / HTTP/1.1\r\n\r\n";
  ::send(fd, request, sizeof request - 1, MSG_NOSIGNAL);
  char c = 0;
  EXPECT_EQ(::recv(fd, &c, 1, 0), 0);  // hung up
  ::close(fd);
  rdv.set("k", {1});
  EXPECT_EQ(rdv.get("k"), Bytes{1});
}

TEST(RendezvousErrors, NotARendezvousServer) {
  auto [fd, port] = listening_socket();
  std::thread http([fd = fd] {
    const int c = ::accept(fd, nullptr, nullptr);
    const char answer[] = "HTTP/1.1 400 Bad Request\r\n\r\n";
    ::send(c, answer, sizeof answer - 1, MSG_NOSIGNAL);
    std::this_thread::sleep_for(300ms);
    ::close(c);
  });
  EXPECT_RUNTIME_ERROR(Rendezvous(world(1, 2, port), 2s),
                       "cannot join the rendezvous at 127.0.0.1:" + std::to_string(port) +
                           " because rank 0's rendezvous server at 127.0.0.1:" + std::to_string(port) +
                           " answered with something other than a tilescale rendezvous reply; is MASTER_PORT another "
                           "service's port?");
  http.join();
  ::close(fd);
}

}  // namespace
}  // namespace tilescale::test
