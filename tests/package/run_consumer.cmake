# The C++ package as a user gets it: installs this build into a fresh prefix (cmake --install),
# configures tests/package/consumer against it with find_package(tilescale), builds it and runs its
# program, which compiles and runs its own kernel on the CPU backend, then registers it as a program
# and calls it from C through the C ABI (tilescale/capi.h).
#   cmake -DBUILD=<build dir> -DSOURCE=<tests/package/consumer> -DWORK=<scratch dir> -P run_consumer.cmake
foreach(var BUILD SOURCE WORK)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "run_consumer.cmake needs -D${var}=...")
  endif()
endforeach()

function(run what)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "${what} failed (${rc}):\n${out}\n${err}")
  endif()
  message(STATUS "${what}: ok")
  set(last_output "${out}" PARENT_SCOPE)
endfunction()

file(REMOVE_RECURSE ${WORK})
run("cmake --install" ${CMAKE_COMMAND} --install ${BUILD} --prefix ${WORK}/prefix)
foreach(installed include/tilescale/tilescale.h include/tilescale/programs.h include/tilescale/capi.h
        lib/cmake/tilescale/tilescaleConfig.cmake bin/tilescale lib/libtilescale_capi.so)
  if(NOT EXISTS ${WORK}/prefix/${installed})
    message(FATAL_ERROR "cmake --install did not install ${installed}")
  endif()
endforeach()
run("configuring the consumer" ${CMAKE_COMMAND} -S ${SOURCE} -B ${WORK}/build -DCMAKE_PREFIX_PATH=${WORK}/prefix
    -DCMAKE_BUILD_TYPE=Release)
run("building the consumer" ${CMAKE_COMMAND} --build ${WORK}/build)
run("running the consumer" ${WORK}/build/scaled_add)
if(NOT last_output MATCHES "scaled_add: ok")
  message(FATAL_ERROR "the consumer printed:\n${last_output}")
endif()
file(REMOVE_RECURSE ${WORK})
