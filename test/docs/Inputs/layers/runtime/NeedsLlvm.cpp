// A runtime source that needs LLVM: must be reported.
#include "support/Status.h"
#include "llvm/ADT/StringRef.h"
