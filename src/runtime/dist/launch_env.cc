#include "runtime/dist/launch_env.h"

#include <climits>
#include <cstdlib>

#include "support/checked.h"
#include "tilescale/errors.h"

namespace tilescale::dist {

using tilescale::detail::cat;

namespace {

struct Launcher {
  const char* name;         // LaunchEnv::launcher
  const char* description;  // as messages name it
  const char* rank;
  const char* world_size;
  const char* local_rank;
  const char* local_world_size;  // nullptr: srun's, derived below
  const char* master_hint;       // how to give MASTER_ADDR and MASTER_PORT to every rank
};

const Launcher kLaunchers[] = {
    {"torchrun", "torchrun (or tilescale launch)", "RANK", "WORLD_SIZE", "LOCAL_RANK", "LOCAL_WORLD_SIZE",
     "torchrun and tilescale launch set both"},
    {"mpirun", "mpirun", "OMPI_COMM_WORLD_RANK", "OMPI_COMM_WORLD_SIZE", "OMPI_COMM_WORLD_LOCAL_RANK",
     "OMPI_COMM_WORLD_LOCAL_SIZE", "pass them to every rank: mpirun -x MASTER_ADDR=<host> -x MASTER_PORT=<port>"},
    {"srun", "srun", "SLURM_PROCID", "SLURM_NTASKS", "SLURM_LOCALID", nullptr,
     "export MASTER_ADDR=<host> MASTER_PORT=<port> before srun, which passes them on"},
};

// The environment of one launcher, read and checked.
class Reader {
 public:
  Reader(const std::function<const char*(const char*)>& getenv, const Launcher& launcher)
      : getenv_(getenv), launcher_(launcher) {}

  // The variable's value; nullopt when unset or empty.
  std::optional<std::string> get(const char* name) const {
    const char* v = getenv_(name);
    if (!v || !*v) return std::nullopt;
    return std::string(v);
  }

  // The variable's value, which must be set because `present` (one of the launcher's) is.
  std::string require(const char* name, const char* present) const {
    if (auto v = get(name)) return *v;
    throw RuntimeError(cat("cannot read the launch environment of ", launcher_.description, " because ", present,
                           " is set but ", name, " is not; set all of ", variables()));
  }

  // `value`, the value of `name`, as a whole decimal number from lo to hi; `bound` says where a
  // bound came from ("WORLD_SIZE=4"), or is empty.
  int number(const char* name, const std::string& value, int lo, int hi, const std::string& bound) const {
    const std::optional<std::int64_t> out = parse_integer(value, lo, hi);
    if (!out)
      throw RuntimeError(cat("cannot read the launch environment of ", launcher_.description, " because ", name, "=",
                             value, " is not a whole number from ", lo, " to ", hi,
                             bound.empty() ? "" : cat(" (", bound, ")"), "; set ", name, " to a value in that range"));
    return static_cast<int>(*out);
  }

  std::string failure(const std::string& reason, const std::string& fix) const {
    return cat("cannot read the launch environment of ", launcher_.description, " because ", reason, "; ", fix);
  }

  std::string variables() const {
    std::string out = cat(launcher_.rank, ", ", launcher_.world_size, ", ", launcher_.local_rank);
    return out + (launcher_.local_world_size ? cat(" and ", launcher_.local_world_size)
                                             : " and SLURM_NTASKS_PER_NODE or SLURM_NNODES");
  }

 private:
  const std::function<const char*(const char*)>& getenv_;
  const Launcher& launcher_;
};

LaunchEnv read(const Reader& r, const Launcher& l, const char* present) {
  LaunchEnv env;
  env.launcher = l.name;
  const std::string world = r.require(l.world_size, present);
  env.world_size = r.number(l.world_size, world, 1, INT_MAX, "");
  const std::string world_bound = cat(l.world_size, "=", world);
  std::string local_bound;  // where the local world size came from, for messages
  if (l.local_world_size) {
    const std::string local = r.require(l.local_world_size, present);
    env.local_world_size = r.number(l.local_world_size, local, 1, env.world_size, world_bound);
    local_bound = cat(l.local_world_size, "=", local);
  } else if (auto per_node = r.get("SLURM_NTASKS_PER_NODE")) {
    env.local_world_size = r.number("SLURM_NTASKS_PER_NODE", *per_node, 1, env.world_size, world_bound);
    local_bound = cat("SLURM_NTASKS_PER_NODE=", *per_node);
  } else if (auto nodes = r.get("SLURM_NNODES")) {
    const int n = r.number("SLURM_NNODES", *nodes, 1, env.world_size, world_bound);
    if (env.world_size % n != 0)
      throw RuntimeError(r.failure(cat(world_bound, " tasks do not divide evenly over SLURM_NNODES=", n,
                                       " nodes and SLURM_NTASKS_PER_NODE is not set"),
                                   "launch with srun --ntasks-per-node=<tasks per node>"));
    env.local_world_size = env.world_size / n;
    local_bound = cat(env.local_world_size, " tasks per node: ", world_bound, " over SLURM_NNODES=", n);
  } else {
    throw RuntimeError(r.failure("neither SLURM_NTASKS_PER_NODE nor SLURM_NNODES is set",
                                 "launch with srun --ntasks-per-node=<tasks per node>"));
  }
  env.rank = r.number(l.rank, r.require(l.rank, present), 0, env.world_size - 1, world_bound);
  env.local_rank =
      r.number(l.local_rank, r.require(l.local_rank, present), 0, env.local_world_size - 1, local_bound);

  const auto addr = r.get("MASTER_ADDR");
  const auto port = r.get("MASTER_PORT");
  if (env.world_size > 1 && (!addr || !port)) {
    const char* missing = !addr && !port ? "MASTER_ADDR and MASTER_PORT are"
                          : !addr        ? "MASTER_ADDR is"
                                         : "MASTER_PORT is";
    throw RuntimeError(r.failure(cat(missing, " not set and the world has ", env.world_size, " ranks"),
                                 cat("set MASTER_ADDR to rank 0's host and MASTER_PORT to a free port on it (",
                                     l.master_hint, ")")));
  }
  if (addr) env.master_addr = *addr;
  if (port) env.master_port = r.number("MASTER_PORT", *port, 1, 65535, "");
  // torchrun's agent serves its own store on MASTER_PORT (and says so): take the next port.
  if (const auto agent = r.get("TORCHELASTIC_USE_AGENT_STORE"); port && agent && (*agent == "True" || *agent == "true" || *agent == "1")) {
    if (env.master_port == 65535)
      throw RuntimeError(r.failure("MASTER_PORT=65535 is torchrun's own store and the rendezvous takes the port after it",
                                   "give torchrun a lower --master-port"));
    ++env.master_port;
  }
  return env;
}

}  // namespace

std::optional<LaunchEnv> launch_env_from(const std::function<const char*(const char*)>& getenv) {
  for (const Launcher& l : kLaunchers) {
    const Reader r(getenv, l);
    for (const char* v : {l.rank, l.world_size, l.local_rank, l.local_world_size})
      if (v && r.get(v)) return read(r, l, v);
  }
  return std::nullopt;
}

std::optional<LaunchEnv> launch_env() {
  return launch_env_from([](const char* name) { return std::getenv(name); });
}

}  // namespace tilescale::dist
