// The umbrella header: everything a tilescale user needs.
#pragma once

#include "tilescale/autotune.h"
#include "tilescale/dist.h"
#include "tilescale/dtype.h"
#include "tilescale/errors.h"
#include "tilescale/lang.h"
#include "tilescale/programs.h"
#include "tilescale/runtime.h"
#include "tilescale/tensor.h"
