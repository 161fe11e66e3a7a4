// `tilescale launch`: runs N processes of one program on this host as the ranks of one run, the way
// torchrun does, so that a distributed program finds its rank and rendezvous in the environment
// (src/runtime/dist/launch_env.h reads it).
//
// Each rank gets RANK, WORLD_SIZE, LOCAL_RANK, LOCAL_WORLD_SIZE (all ranks are local), MASTER_ADDR
// and MASTER_PORT (those of the launcher's environment when set, else 127.0.0.1 and a free port).
// With `gpus` G > 0, rank r sees only GPU r % G: its CUDA_VISIBLE_DEVICES is the (r % G)-th entry
// of the launcher's CUDA_VISIBLE_DEVICES (or r % G when that is unset), so each rank's device 0 is
// its own GPU; G = 0 leaves every rank all the launcher's GPUs (the ipc transport then picks
// LOCAL_RANK % devices).
// Its standard output and error are merged and printed line by line, each line prefixed with
// "[rank r] ". When a rank fails (a non-zero exit status, a signal, or a program that cannot be
// started), the launcher stops the others (SIGTERM to each rank's process group, SIGKILL after a
// grace period) and reports the first failure: which rank, how it ended and its last line of output.
//
//   $ tilescale launch -n 2 ./my_program --size 1024
//   [rank 0] ...
//   [rank 1] ...
//   error: rank 1 failed (exit status 3; its last output: "boom"); the other ranks were stopped
#pragma once

#include <chrono>
#include <string>
#include <vector>

namespace tilescale::launcher {

struct Options {
  int ranks = 1;
  std::vector<std::string> command;  // the program and its arguments
  int gpus = 0;                       // see above; at most the entries of CUDA_VISIBLE_DEVICES when set
  std::chrono::milliseconds grace{2000};  // from SIGTERM to SIGKILL for the ranks stopped
};

// Runs the ranks to the end; returns 0 when every rank exited with status 0, else 1 after the
// report on stderr. RuntimeError when the launcher itself cannot set up (pipes, fork).
int launch(const Options& options);

}  // namespace tilescale::launcher
