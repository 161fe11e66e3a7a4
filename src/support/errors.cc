#include "tilescale/errors.h"

#include <new>
#include <system_error>
#include <typeinfo>

namespace tilescale::detail {

void rethrow_as_error(const std::string& doing) {
  try {
    throw;
  } catch (const Error&) {
    throw;
  } catch (const std::bad_alloc& e) {
    throw RuntimeError(cat("cannot ", doing, " because memory ran out (", e.what(), "); use smaller sizes"));
  } catch (const std::length_error& e) {
    throw RuntimeError(cat("cannot ", doing, " because memory ran out (a container cannot hold that many elements: ",
                           e.what(), "); use smaller sizes"));
  } catch (const std::system_error& e) {
    throw RuntimeError(cat("cannot ", doing, " because a system operation failed: ", e.what()));
  } catch (const std::exception& e) {
    throw InternalError(cat("unexpected ", typeid(e).name(), " while trying to ", doing, ": ", e.what()));
  } catch (...) {
    throw InternalError(cat("an exception that is not a std::exception while trying to ", doing));
  }
}

}  // namespace tilescale::detail
