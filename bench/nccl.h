// NCCL, loaded at run time: the peer of the distributed benchmarks (allgather, allgather_gemm,
// gemm_rs).
//
//   bench::Nccl nccl(P);                  // one communicator per rank of this process, rank r on GPU r
//   if (nccl.available()) nccl.all_gather(rank, in, out, stream);   // from rank r's thread
//   else std::puts(nccl.why_not().c_str());  // "NCCL needs one GPU per rank; 1 GPU here"
//
// Nothing of NCCL is needed at build time: the few types and entry points used are declared in
// nccl.cc, and libnccl.so.2 is opened with dlopen the first time, from (in order) the loader's
// search path, the CUDA toolkit ($CUDA_HOME/lib64, $CUDA_PATH/lib64, /usr/local/cuda/lib64 and
// lib), then the pip wheels nvidia-nccl-cu13 / -cu12 (<site-packages>/nvidia/nccl/lib): the
// site-packages directories of the python3 interpreters on PATH and of ~/.local are looked for on
// the file system, and only when none holds the wheel is `python3` asked once where nvidia.nccl is.
//
// NVLink multicast (NVLS) stays off: NCCL_NVLS_ENABLE is set to 0 in the process environment before
// any communicator is made (on the shared GPU hosts multicast can take the machine out of service);
// a different value found there is overridden, with a note on stderr.
//
// NCCL refuses two ranks of one communicator on one GPU, so the communicators exist only when this
// process sees at least as many GPUs as there are ranks.
#pragma once

#include <memory>
#include <string>

#include "tilescale/tensor.h"

namespace tilescale::bench {

class Nccl {
 public:
  // Communicators for `ranks` ranks (ncclCommInitAll over devices 0..ranks-1, the devices
  // dist::World::local puts its ranks on when there are enough). Never throws for a missing library,
  // too few GPUs or a failed initialisation: available() is false and why_not() says why.
  explicit Nccl(int ranks);
  ~Nccl();
  Nccl(const Nccl&) = delete;
  Nccl& operator=(const Nccl&) = delete;

  bool available() const { return why_not_.empty(); }
  const std::string& why_not() const { return why_not_; }
  // "NCCL 2.27.7 (/usr/local/cuda/lib64/libnccl.so.2)", or "" when not available.
  const std::string& description() const { return description_; }

  // Collectives of rank `rank`'s communicator, enqueued on `stream` (a CUstream on the rank's GPU);
  // every rank calls them in the same order, each from its own thread. The element type is `in`'s
  // (float16, bfloat16 or float32); RuntimeError quoting NCCL's message when NCCL fails.
  // out[P·n] = in[n] of every rank, in rank order.
  void all_gather(int rank, const Tensor& in, const Tensor& out, void* stream) const;
  // out[n] = the sum over ranks of in[rank·n .. (rank+1)·n).
  void reduce_scatter_sum(int rank, const Tensor& in, const Tensor& out, void* stream) const;

 private:
  struct Comms;
  std::unique_ptr<Comms> comms_;
  std::string why_not_, description_;
};

}  // namespace tilescale::bench
