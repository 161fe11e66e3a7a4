#include "support/env.h"

#include <cctype>
#include <cstdlib>
#include <string>

#include "tilescale/errors.h"

namespace tilescale {

bool env_switch(const char* name, bool default_value) {
  const char* v = std::getenv(name);
  if (!v || !*v) return default_value;
  std::string s = v;
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (s == "1" || s == "on" || s == "true" || s == "yes") return true;
  if (s == "0" || s == "off" || s == "false" || s == "no") return false;
  throw RuntimeError(detail::cat("cannot read ", name, "=", v, " because a switch is 1 or 0 (also on/off, true/false, "
                                 "yes/no); set ", name, "=1 or ", name, "=0, or unset it for the default"));
}

}  // namespace tilescale
