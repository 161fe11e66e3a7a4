// The NVSHMEM settings the nvshmem transport makes before initialising NVSHMEM (issue 14, item 2):
// multicast always off; on one node, no remote transport and the loopback interface; room for the
// heap; what the user set is kept.
#include <gtest/gtest.h>

#include <map>
#include <string>

#include "runtime/dist/nvshmem_environment.h"
#include "tilescale/runtime.h"
#include "tilescale/tilescale.h"

namespace tilescale::dist {
namespace {

using Settings = std::vector<std::pair<std::string, std::string>>;

Settings settings(const LaunchEnv& env, const std::map<std::string, std::string>& set) {
  return nvshmem_environment(env, 1000, [&](const char* name) -> const char* {
    auto it = set.find(name);
    return it == set.end() ? nullptr : it->second.c_str();
  });
}

LaunchEnv node(int world, int local) {
  LaunchEnv env;
  env.world_size = world;
  env.local_world_size = local;
  return env;
}

TEST(NvshmemEnvironment, OneNodeGetsNoRemoteTransportTheLoopbackAndRoomForTheHeap) {
  const std::string size = std::to_string(1000 + kNvshmemOwnBytes);
  EXPECT_EQ(settings(node(2, 2), {}), (Settings{{"NVSHMEM_DISABLE_NVLS", "1"},
                                                {"NVSHMEM_SYMMETRIC_SIZE", size},
                                                {"NVSHMEM_REMOTE_TRANSPORT", "none"},
                                                {"NVSHMEM_BOOTSTRAP_UID_SOCK_IFNAME", "lo"}}));
}

TEST(NvshmemEnvironment, SeveralNodesKeepNvshmemsTransportAndInterface) {
  EXPECT_EQ(settings(node(4, 2), {}),
            (Settings{{"NVSHMEM_DISABLE_NVLS", "1"}, {"NVSHMEM_SYMMETRIC_SIZE", std::to_string(1000 + kNvshmemOwnBytes)}}));
}

TEST(NvshmemEnvironment, WhatTheUserSetIsKeptButMulticastStaysOff) {
  const std::map<std::string, std::string> user{{"NVSHMEM_DISABLE_NVLS", "0"},
                                                {"NVSHMEM_SYMMETRIC_SIZE", "8G"},
                                                {"NVSHMEM_REMOTE_TRANSPORT", "ibrc"},
                                                {"NVSHMEM_BOOTSTRAP_UID_SOCK_IFNAME", "eth0"}};
  EXPECT_EQ(settings(node(2, 2), user), (Settings{{"NVSHMEM_DISABLE_NVLS", "1"}}));
  EXPECT_EQ(settings(node(2, 2), {{"NVSHMEM_SYMMETRIC_SIZE", ""}}).at(1).first, "NVSHMEM_SYMMETRIC_SIZE") << "empty is unset";
}

// Issue 14, item 5: explicit targets and their names; a kernel that calls NVSHMEM refuses to run
// where NVSHMEM is not (tests/gpu checks the call on a local world).
TEST(NvshmemTarget, ParsesAndNamesNvshmem) {
  EXPECT_EQ(parse_target("nvshmem"), Target::NVSHMEM);
  EXPECT_STREQ(name(Target::NVSHMEM), "nvshmem");
  try {
    parse_target("nvlink");
    ADD_FAILURE() << "no error";
  } catch (const CompileError& e) {
    EXPECT_STREQ(e.what(), "cannot compile for target 'nvlink' because it is unknown; use auto, cpu, cuda or nvshmem");
  }
}

}  // namespace
}  // namespace tilescale::dist
