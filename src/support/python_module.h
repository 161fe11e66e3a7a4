// Where the python3 on PATH finds a package: the last resort of the searches for NVIDIA's wheels
// (NVSHMEM's headers, NCCL's library) when their site-packages cannot be found on the file system.
#pragma once

#include <string>

namespace tilescale {

// `module.__path__[0]` as `python3 -c 'import <module>'` sees it; "" when python3 is missing or
// cannot import it. Runs a python3 process: call it only when nothing cheaper found the package.
std::string python_module_dir(const std::string& module);

}  // namespace tilescale
