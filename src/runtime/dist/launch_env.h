// The launch environment: which rank this process is, of how many, and where rank 0's rendezvous
// server listens, as the launcher that started the process says.
//
//   if (std::optional<LaunchEnv> env = launch_env()) {      // nullopt: no launcher, one process
//     Rendezvous rdv(*env, std::chrono::seconds(60));       // runtime/dist/rendezvous.h
//     ...
//   }
//
// World::from_env (the `ipc` transport, one process per rank) reads it; `tilescale launch` sets the
// torchrun variables below.
//
// Launchers, in order of precedence (the first whose variables are set wins; a torchrun inside an
// srun allocation is torchrun):
//   torchrun (and tilescale launch)  RANK, WORLD_SIZE, LOCAL_RANK, LOCAL_WORLD_SIZE
//   mpirun (Open MPI)                OMPI_COMM_WORLD_RANK, OMPI_COMM_WORLD_SIZE,
//                                    OMPI_COMM_WORLD_LOCAL_RANK, OMPI_COMM_WORLD_LOCAL_SIZE
//   srun (Slurm)                     SLURM_PROCID, SLURM_NTASKS, SLURM_LOCALID, and
//                                    SLURM_NTASKS_PER_NODE or else SLURM_NTASKS / SLURM_NNODES
// and, for every launcher, MASTER_ADDR (rank 0's host: an IPv4 address or a host name) and
// MASTER_PORT (1 to 65535). torchrun's agent serves its own store on MASTER_PORT when it sets
// TORCHELASTIC_USE_AGENT_STORE=True: the rendezvous then takes MASTER_PORT + 1. torchrun sets them; under mpirun and srun the user does. A one-rank
// world needs neither (127.0.0.1 and port 0, any free port, stand in).
//
// A launcher is chosen when any of its rank and size variables above is set (an empty value counts
// as unset); then all of them must be. Slurm sets its variables inside an sbatch script too: a
// program started there without srun takes itself for rank 0 of SLURM_NTASKS ranks and its
// rendezvous times out naming the others, so start it under srun.
//
// Every value is checked: a number that is not a whole decimal number in its range (rank below the
// world size, local rank below the local world size, local world size at most the world size, port
// 1 to 65535), a variable missing, or MASTER_ADDR / MASTER_PORT missing in a world of more than one
// rank is a RuntimeError naming the variable, its value and what was expected, e.g.
//   cannot read the launch environment of torchrun (or tilescale launch) because RANK=4 is not a
//   whole number from 0 to 3 (WORLD_SIZE=4); set RANK to a value in that range
#pragma once

#include <functional>
#include <optional>
#include <string>

namespace tilescale::dist {

struct LaunchEnv {
  int rank = 0;
  int world_size = 1;
  int local_rank = 0;        // rank among the processes of this host
  int local_world_size = 1;  // processes on this host
  std::string master_addr = "127.0.0.1";
  int master_port = 0;  // the rendezvous's; 0 only in a one-rank world: any free port
  std::string launcher;  // "torchrun", "mpirun" or "srun"
};

// Reads the launch environment through `getenv` (nullptr or "" for an unset variable), so that
// tests need not touch the process's environment. nullopt when no launcher's variable is set.
std::optional<LaunchEnv> launch_env_from(const std::function<const char*(const char*)>& getenv);

// launch_env_from(std::getenv).
std::optional<LaunchEnv> launch_env();

}  // namespace tilescale::dist
