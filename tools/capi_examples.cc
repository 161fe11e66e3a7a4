// libtilescale_capi.so: the library, whose C ABI (include/tilescale/capi.h, src/capi/capi.cc)
// compiles registered programs, with every built-in example registered as one when the library is
// loaded, so that ctypes users reach them by name (ts_program_create("flash_attention", ...)).
#include "example.h"

namespace {

// Safe from a static initializer: the program registry and the examples' list are function-local
// statics, made on first use; nothing here reads another file's namespace-scope object.
const bool registered = [] {
  tilescale::examples::register_example_programs();
  return true;
}();

}  // namespace
