//===- NoLLVMPoisoning.h - no ASan poisoning in LLVM's inline allocators -===//
//
// Included before anything else (-include) in the sources that the MLIR
// fuzzers compile. Under ASan, LLVM's headers poison the free space of a
// BumpPtrAllocator slab and unpoison each allocation (llvm/Support/
// Allocator.h, Recycler.h, ArrayRecycler.h). That works when every user of
// an allocator is instrumented. Here libMLIR.so and libLLVM.so are Debian's
// uninstrumented builds and share allocators with our instrumented code: a
// slab that our code starts (poisoned) is then carved up by libMLIR (never
// unpoisoned), and the next access from our code is a false
// "use-after-poison" (the uoe attribute storage of the first uoe attribute
// parsed, for one). Declaring ASan's interface here and defining its two
// poisoning functions away makes LLVM's inline allocator code in our
// objects behave as it does in the libraries; ASan still checks every heap
// block, stack and global as usual.
//
//===----------------------------------------------------------------------===//

#ifndef UOE_FUZZ_NOLLVMPOISONING_H
#define UOE_FUZZ_NOLLVMPOISONING_H

#include <sanitizer/asan_interface.h>

#define __asan_poison_memory_region(p, size) ((void)(p), (void)(size))
#define __asan_unpoison_memory_region(p, size) ((void)(p), (void)(size))

#endif // UOE_FUZZ_NOLLVMPOISONING_H
