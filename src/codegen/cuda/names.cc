#include "codegen/cuda/names.h"

#include <cctype>
#include <set>

namespace tilescale::cuda {

bool reserved_identifier(const std::string& name) {
  static const std::set<std::string> reserved = {
      // C++20 keywords and alternative tokens.
      "alignas", "alignof", "and", "and_eq", "asm", "auto", "bitand", "bitor", "bool", "break", "case", "catch", "char",
      "char8_t", "char16_t", "char32_t", "class", "compl", "concept", "const", "consteval", "constexpr", "constinit",
      "const_cast", "continue", "co_await", "co_return", "co_yield", "decltype", "default", "delete", "do", "double",
      "dynamic_cast", "else", "enum", "explicit", "export", "extern", "false", "float", "for", "friend", "goto", "if",
      "inline", "int", "long", "mutable", "namespace", "new", "noexcept", "not", "not_eq", "nullptr", "operator", "or",
      "or_eq", "private", "protected", "public", "register", "reinterpret_cast", "requires", "return", "short", "signed",
      "sizeof", "static", "static_assert", "static_cast", "struct", "switch", "template", "this", "thread_local", "throw",
      "true", "try", "typedef", "typeid", "typename", "union", "unsigned", "using", "virtual", "void", "volatile",
      "wchar_t", "while", "xor", "xor_eq", "final", "override", "import", "module",
      // CUDA built-in variables, the entry point, namespaces, macros.
      "threadIdx", "blockIdx", "blockDim", "gridDim", "warpSize", "main", "tl", "std", "nv", "cuda", "NULL", "INFINITY",
      "NAN", "assert",
      // Types generated code names unqualified.
      "half", "half2", "nv_bfloat16", "nv_bfloat162", "int2", "int4", "uint2", "uint4", "float2", "float4", "dim3",
      "int8_t", "int16_t", "int32_t", "int64_t", "uint8_t", "uint16_t", "uint32_t", "uint64_t", "size_t",
      // Functions generated code calls unqualified.
      "printf", "malloc", "free", "memcpy", "memset", "atomicAdd", "min", "max", "abs", "llabs", "exp", "expf", "exp2",
      "exp2f", "log", "logf", "log2", "log2f", "sqrt", "sqrtf", "rsqrt", "rsqrtf", "fabs", "fabsf", "floor", "floorf",
      "ceil", "ceilf", "sin", "sinf", "cos", "cosf", "tanh", "tanhf", "pow", "powf", "fmin", "fminf", "fmax", "fmaxf",
      // The generator's own names.
      "smem", "tx", "raster", "r", "s", "e",
  };
  if (reserved.count(name)) return true;
  for (const char* prefix : {"ts_", "nvshmem", "NVSHMEM_", "__"})
    if (name.rfind(prefix, 0) == 0) return true;
  return name.size() > 1 && name[0] == '_' && std::isupper(static_cast<unsigned char>(name[1]));
}

}  // namespace tilescale::cuda
