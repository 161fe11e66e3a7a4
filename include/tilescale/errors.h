// Errors have two channels.
//
//  * CompileError and RuntimeError are the user's: a program or a call that tilescale cannot accept.
//    Their messages are shaped "cannot <do X> on <buffer/op> because <Y>; <do Z>": they name the
//    op, the buffer and the dimension involved, say what was expected and what was found, and say
//    what to do about it.
//  * InternalError is ours: a broken invariant inside the compiler. Its message says so and asks
//    for a bug report; it never blames the user's program.
//
// Both derive from tilescale::Error so a caller can catch everything tilescale throws in one place.
#pragma once

#include <sstream>
#include <stdexcept>
#include <string>

namespace tilescale {

class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// A tile program the compiler cannot accept (malformed IR, shape mismatch, unsupported target...).
class CompileError : public Error {
 public:
  using Error::Error;
};

// A call that cannot run as asked (argument mismatch, out-of-bounds access, deadlock...).
class RuntimeError : public Error {
 public:
  using Error::Error;
};

// A bug in tilescale itself.
class InternalError : public Error {
 public:
  explicit InternalError(const std::string& what)
      : Error("internal error in tilescale (please report it): " + what) {}
};

namespace detail {
// Concatenates anything streamable: detail::cat("buffer ", name, " has rank ", n).
template <typename... Args>
std::string cat(const Args&... args) {
  std::ostringstream os;
  (os << ... << args);
  return os.str();
}

// Inside a catch block: rethrows the exception being handled as a tilescale::Error, so that every
// entry point (compile, a kernel call, the CLI, the C ABI) reports one kind of error. `doing` says
// what was being done ("compile gemm"). tilescale's own errors pass unchanged; what the environment
// raises becomes a RuntimeError with that context: running out of memory (std::bad_alloc, or
// std::length_error from a container asked for more than it can hold) as
//   "cannot compile gemm because memory ran out (std::bad_alloc); use smaller sizes"
// and a failed file or system operation (std::system_error: std::filesystem_error, std::ios_base::
// failure) as "cannot compile gemm because a system operation failed: <what>". Any other exception
// is an InternalError.
[[noreturn]] void rethrow_as_error(const std::string& doing);

}  // namespace detail

}  // namespace tilescale

// Internal invariant: throws InternalError with the file and line when `cond` is false.
#define TS_ICHECK(cond, ...)                                                                     \
  do {                                                                                           \
    if (!(cond))                                                                                 \
      throw ::tilescale::InternalError(::tilescale::detail::cat(                                 \
          __FILE__, ":", __LINE__, ": check '", #cond, "' failed. " __VA_OPT__(, ) __VA_ARGS__)); \
  } while (0)
