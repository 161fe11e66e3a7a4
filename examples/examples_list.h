// One function per example file; registry.cc lists them in order.
#pragma once

#include "example.h"

namespace tilescale::examples {

Example gemm_example();             // gemm.cc
Example gemm_relu_example();        // gemm_relu.cc
Example softmax_example();          // softmax.cc
Example layernorm_example();        // layernorm.cc
Example elementwise_add_example();  // elementwise_add.cc
Example transpose_example();        // transpose.cc
Example flash_attention_example();  // flash_attention.cc
Example masked_scale_example();     // masked_scale.cc

}  // namespace tilescale::examples
