// A support header that reaches up into the runtime: must be reported.
#include "runtime/Program.h"
