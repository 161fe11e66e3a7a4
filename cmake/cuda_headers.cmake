# TILESCALE_CUDA_INCLUDE_DIR: the CUDA toolkit headers the library is built against (cuda.h,
# nvrtc.h, nvJitLink.h: only their types and declarations; libcuda, NVRTC and nvJitLink are loaded
# at run time, so building needs no GPU and no driver).
#
# Found under $CUDA_HOME, $CUDA_PATH or /usr/local/cuda. Without a toolkit (or with
# -DTILESCALE_CUDA_FROM_PIP=ON) they come from NVIDIA's CUDA 13.0 pip wheels (nvidia-cuda-runtime,
# nvidia-cuda-nvrtc, nvidia-nvjitlink, and nvidia-cuda-cccl for NVSHMEM's headers), fetched with `python3 -m pip download` and unpacked into
# <build>/_deps/cuda: include/ for the build, lib64/ (libnvrtc, libnvJitLink) for the JIT at run
# time (point CUDA_HOME there). That needs python3 with pip and the network, once per build directory.
option(TILESCALE_CUDA_FROM_PIP "take the CUDA headers from NVIDIA's pip wheels even where a toolkit is installed" OFF)
set(TILESCALE_CUDA_DEPS ${CMAKE_BINARY_DIR}/_deps/cuda)

function(tilescale_headers_complete dir result)
  set(${result} FALSE PARENT_SCOPE)
  if(EXISTS ${dir}/cuda.h AND EXISTS ${dir}/nvrtc.h AND EXISTS ${dir}/nvJitLink.h)
    set(${result} TRUE PARENT_SCOPE)
  endif()
endfunction()

function(tilescale_fetch_cuda_headers)
  find_package(Python3 COMPONENTS Interpreter)
  if(NOT Python3_FOUND)
    message(FATAL_ERROR "CUDA toolkit headers (cuda.h, nvrtc.h, nvJitLink.h) not found and no python3 to fetch them "
                        "from NVIDIA's pip wheels; install the CUDA 13 toolkit or set CUDA_HOME to it")
  endif()
  set(wheels ${CMAKE_BINARY_DIR}/_deps/wheels)
  file(REMOVE_RECURSE ${wheels} ${TILESCALE_CUDA_DEPS})
  message(STATUS "tilescale: no CUDA toolkit headers; fetching them from NVIDIA's CUDA 13.0 pip wheels")
  execute_process(
    COMMAND ${Python3_EXECUTABLE} -m pip download --quiet --disable-pip-version-check --no-deps --only-binary=:all:
            --dest ${wheels} nvidia-cuda-runtime==13.0.* nvidia-cuda-nvrtc==13.0.* nvidia-nvjitlink==13.0.*
            nvidia-cuda-cccl==13.0.*
    RESULT_VARIABLE rc ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "could not download the CUDA header wheels (${err}); install the CUDA 13 toolkit or set "
                        "CUDA_HOME to it")
  endif()
  file(GLOB archives ${wheels}/*.whl)
  foreach(wheel IN LISTS archives)
    # A wheel is a zip: nvidia/cu13/{include,lib}/...
    file(ARCHIVE_EXTRACT INPUT ${wheel} DESTINATION ${wheels}/unpacked PATTERNS nvidia/cu13/include nvidia/cu13/lib)
  endforeach()
  file(COPY ${wheels}/unpacked/nvidia/cu13/include/ DESTINATION ${TILESCALE_CUDA_DEPS}/include)
  file(COPY ${wheels}/unpacked/nvidia/cu13/lib/ DESTINATION ${TILESCALE_CUDA_DEPS}/lib64)
  file(REMOVE_RECURSE ${wheels})
endfunction()

if(TILESCALE_CUDA_FROM_PIP AND NOT TILESCALE_CUDA_INCLUDE_DIR STREQUAL "${TILESCALE_CUDA_DEPS}/include")
  unset(TILESCALE_CUDA_INCLUDE_DIR CACHE)
endif()
if(NOT TILESCALE_CUDA_INCLUDE_DIR)
  if(TILESCALE_CUDA_FROM_PIP)
    set(candidates "")
  else()
    set(candidates $ENV{CUDA_HOME}/include $ENV{CUDA_PATH}/include /usr/local/cuda/include)
  endif()
  list(APPEND candidates ${TILESCALE_CUDA_DEPS}/include)
  foreach(dir IN LISTS candidates)
    tilescale_headers_complete(${dir} complete)
    if(complete)
      set(TILESCALE_CUDA_INCLUDE_DIR ${dir} CACHE PATH "CUDA toolkit headers (cuda.h, nvrtc.h, nvJitLink.h)")
      break()
    endif()
  endforeach()
  if(NOT TILESCALE_CUDA_INCLUDE_DIR)
    tilescale_fetch_cuda_headers()
    set(TILESCALE_CUDA_INCLUDE_DIR ${TILESCALE_CUDA_DEPS}/include CACHE PATH "CUDA toolkit headers (cuda.h, nvrtc.h, nvJitLink.h)")
  endif()
endif()
tilescale_headers_complete(${TILESCALE_CUDA_INCLUDE_DIR} complete)
if(NOT complete)
  message(FATAL_ERROR "${TILESCALE_CUDA_INCLUDE_DIR} lacks cuda.h, nvrtc.h or nvJitLink.h; point TILESCALE_CUDA_INCLUDE_DIR "
                      "(or CUDA_HOME) at a CUDA 13 toolkit's include directory")
endif()
