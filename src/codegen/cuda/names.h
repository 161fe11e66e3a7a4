// Identifiers the generated CUDA C++ may not give to the user's buffers, variables and kernel.
//
// The generator keeps the user's names where it can (a tensor A is `A` in the source), so the
// code stays readable; a name that would be a C++ keyword, a CUDA built-in, a name the generated
// code uses itself, or one the device headers or toolkit declare, is renamed by the generator
// (`int` becomes `int_1`, `threadIdx` `threadIdx_1`). Messages and printed IR keep the user's name.
#pragma once

#include <string>

namespace tilescale::cuda {

// True for identifiers that generated code cannot declare: C++ keywords; CUDA's built-in variables,
// types and functions that generated code calls unqualified (threadIdx, uint4, expf, printf,
// atomicAdd, min...); `main`; the namespaces `tl`, `std`, `nv`, `cuda`; the generator's own names
// (smem, tx, raster, the loop counters r, s, e); and anything starting with ts_ (the generator's prefix),
// nvshmem/NVSHMEM_, two underscores, or an underscore and a capital (reserved to the implementation).
bool reserved_identifier(const std::string& name);

}  // namespace tilescale::cuda
