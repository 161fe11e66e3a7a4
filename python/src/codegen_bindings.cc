// Generated code without a GPU: runtime.h's generate_cuda for Python (tilescale.generate_cuda), so
// that what a program prints can be read and compared where no kernel can be loaded (the CLI's
// `tilescale dump <example> --cuda`).
#include <nanobind/nanobind.h>
#include <nanobind/stl/string.h>

#include "bindings.h"
#include "tilescale/lang.h"
#include "tilescale/runtime.h"

namespace tilescale::python {

void bind_codegen(nb::module_& m) {
  m.def("generate_cuda", [](const lang::PrimFunc& func, const std::string& arch) {
    nb::gil_scoped_release release;  // the pipeline and the printer touch no Python object
    return tilescale::generate_cuda(func, arch);
  }, nb::arg("func"), nb::arg("arch") = "sm_90a",
  "The CUDA C++ tilescale generates for `func` for `arch` (\"sm_80\", \"sm_90a\"); needs no GPU.");
}

}  // namespace tilescale::python
