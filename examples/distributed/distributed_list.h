// One function per distributed example file; registry.cc lists them in order.
#pragma once

#include "distributed_example.h"

namespace tilescale::examples {

DistributedExample simple_shift_example();                 // simple_shift.cc
DistributedExample allgather_push_example();               // allgather.cc
DistributedExample allgather_pull_example();               // allgather.cc
DistributedExample all_to_all_example();                   // all_to_all.cc
DistributedExample pre_attn_all2all_example();             // attention_all2all.cc
DistributedExample pre_attn_all2all_transpose_example();   // attention_all2all.cc
DistributedExample post_attn_all2all_transpose_example();  // attention_all2all.cc
DistributedExample allgather_gemm_example();               // allgather_gemm.cc
DistributedExample gemm_rs_example();                      // gemm_rs.cc
DistributedExample reduce_scatter_example();               // reduce_scatter.cc
DistributedExample allreduce_example();                    // allreduce.cc
DistributedExample cannon_example();                       // cannon.cc
DistributedExample summa_example();                        // summa.cc

}  // namespace tilescale::examples
