// Reading tilescale's environment switches, one spelling for all of them.
//
//   if (env_switch("TILESCALE_TMA", true)) ...   // unset or "": true; "0": false; "1": true
//
// A switch is on for 1, on, true, yes and off for 0, off, false, no (any case); unset or empty
// leaves the default. Anything else is a RuntimeError naming the variable and the value, so that a
// typo never silently leaves the default in force.
#pragma once

namespace tilescale {

bool env_switch(const char* name, bool default_value);

}  // namespace tilescale
