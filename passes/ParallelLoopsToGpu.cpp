//===- ParallelLoopsToGpu.cpp - loop nests to GPU kernels ----------------===//
//
// See UoEParallelLoopsToGpuPass in Passes.td. Upstream's
// gpu-map-parallel-loops maps each dimension of a nest to one grid or
// block dimension as it is: a nest of [8 x 256 x 512] iterations would ask
// for blocks of 512 threads over a grid of 8 x 256, and a nest of [4096]
// for 4096 blocks of one thread. Here every nest is linearised instead and
// cut into blocks of a fixed size, whatever its shape and whether its trip
// counts are known at compile time (dynamic capacities are not).
//
//===----------------------------------------------------------------------===//

#include "passes/Passes.h"

#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/IR/SymbolTable.h"

namespace mlir::uoe {
#define GEN_PASS_DEF_UOEPARALLELLOOPSTOGPUPASS
#include "passes/Passes.h.inc"
} // namespace mlir::uoe

using namespace mlir;

namespace {

/// The name of the one gpu.module that merge-modules leaves.
constexpr const char *kKernelModule = "uoe_kernels";

/// Whether `op` is nested in `ancestor`.
bool isInside(Operation *op, Operation *ancestor) {
  return ancestor->isProperAncestor(op);
}

/// Gives kernels their own copy of host-only memory they read: a
/// `memref.get_global` (a host global) or a `memref.alloca` (the host's
/// stack) defined outside `nests` and used inside one of them is copied
/// into a fresh buffer (managed memory in the GPU pipeline) right after its
/// definition, released before the end of its block.
void privatizeHostMemory(ArrayRef<scf::ParallelOp> nests, Operation *root) {
  SmallVector<Operation *> hostOnly;
  root->walk([&](Operation *op) {
    if (isa<memref::GetGlobalOp, memref::AllocaOp>(op))
      hostOnly.push_back(op);
  });
  for (Operation *def : hostOnly) {
    Value value = def->getResult(0);
    auto type = cast<MemRefType>(value.getType());
    auto usedInKernel = [&](OpOperand &use) {
      return llvm::any_of(nests, [&](scf::ParallelOp nest) {
        return isInside(use.getOwner(), nest);
      });
    };
    if (llvm::none_of(value.getUses(), usedInKernel) ||
        llvm::any_of(nests,
                     [&](scf::ParallelOp nest) { return isInside(def, nest); }))
      continue;
    OpBuilder b(def->getContext());
    b.setInsertionPointAfter(def);
    Location loc = def->getLoc();
    // An alloca has no initial contents worth copying, but the host may
    // write it before the kernel reads it: copy in both cases.
    auto copy = memref::AllocOp::create(
        b, loc, MemRefType::get(type.getShape(), type.getElementType()),
        def->getOperands());
    Operation *fill = nullptr;
    if (isa<memref::GetGlobalOp>(def))
      fill = memref::CopyOp::create(b, loc, value, copy);
    value.replaceUsesWithIf(copy, [&](OpOperand &use) {
      return use.getOwner() != copy && use.getOwner() != fill;
    });
    b.setInsertionPoint(def->getBlock()->getTerminator());
    memref::DeallocOp::create(b, loc, copy);
  }
}

/// Rewrites the outermost parallel nest `op` into a guarded gpu.launch of
/// blocks of `blockSize` threads, one thread per iteration.
void launch(scf::ParallelOp op, int64_t blockSize) {
  OpBuilder b(op);
  Location loc = op.getLoc();
  Value zero = arith::ConstantIndexOp::create(b, loc, 0);
  Value one = arith::ConstantIndexOp::create(b, loc, 1);
  Value threads = arith::ConstantIndexOp::create(b, loc, blockSize);

  // Trip counts max(0, ceil((ub - lb) / step)) and their product.
  SmallVector<Value> trips;
  Value total;
  for (auto [lb, ub, step] :
       llvm::zip(op.getLowerBound(), op.getUpperBound(), op.getStep())) {
    Value span = arith::SubIOp::create(b, loc, ub, lb);
    Value count = arith::CeilDivSIOp::create(b, loc, span, step);
    count = arith::MaxSIOp::create(b, loc, count, zero);
    trips.push_back(count);
    total =
        total ? arith::MulIOp::create(b, loc, total, count).getResult() : count;
  }
  Value any =
      arith::CmpIOp::create(b, loc, arith::CmpIPredicate::sgt, total, zero);
  auto guard = scf::IfOp::create(b, loc, any, /*withElseRegion=*/false);
  b.setInsertionPointToStart(guard.thenBlock());
  Value blocks = arith::CeilDivSIOp::create(b, loc, total, threads);
  auto kernel =
      gpu::LaunchOp::create(b, loc, blocks, one, one, threads, one, one);
  Block &body = kernel.getBody().front();
  b.setInsertionPointToEnd(&body);
  gpu::TerminatorOp::create(b, loc);
  b.setInsertionPointToStart(&body);

  // The iteration of this thread, innermost dimension fastest.
  Value linear = arith::AddIOp::create(
      b, loc, arith::MulIOp::create(b, loc, kernel.getBlockIds().x, threads),
      kernel.getThreadIds().x);
  Value inRange =
      arith::CmpIOp::create(b, loc, arith::CmpIPredicate::slt, linear, total);
  auto inside = scf::IfOp::create(b, loc, inRange, /*withElseRegion=*/false);
  b.setInsertionPointToStart(inside.thenBlock());
  unsigned rank = op.getNumLoops();
  SmallVector<Value> ivs(rank);
  Value rest = linear;
  for (unsigned i = rank; i-- > 0;) {
    // The outermost index needs no remainder: it is below its trip count.
    Value index =
        i == 0 ? rest
               : arith::RemSIOp::create(b, loc, rest, trips[i]).getResult();
    if (i > 0)
      rest = arith::DivSIOp::create(b, loc, rest, trips[i]);
    ivs[i] = arith::AddIOp::create(
        b, loc, op.getLowerBound()[i],
        arith::MulIOp::create(b, loc, index, op.getStep()[i]));
  }

  Block &loopBody = op.getRegion().front();
  loopBody.getTerminator()->erase();
  for (auto [arg, iv] : llvm::zip(loopBody.getArguments(), ivs))
    arg.replaceAllUsesWith(iv);
  inside.thenBlock()->getOperations().splice(
      inside.thenBlock()->getTerminator()->getIterator(),
      loopBody.getOperations());
  op.erase();
}

/// Moves the kernels of every gpu.module into one, `uoe_kernels`, and
/// points the launches at it.
LogicalResult mergeModules(ModuleOp module) {
  SmallVector<gpu::GPUModuleOp> modules(module.getOps<gpu::GPUModuleOp>());
  if (modules.empty())
    return success();
  SymbolTable symbols(module);
  if (modules.size() == 1 && modules.front().getName() == kKernelModule)
    return success();
  if (symbols.lookup(kKernelModule))
    return module.emitError()
           << "a symbol named '" << kKernelModule << "' exists already";
  OpBuilder b(modules.front());
  auto merged =
      gpu::GPUModuleOp::create(b, modules.front().getLoc(), kKernelModule);
  Block &into = merged.getBodyRegion().front();
  // gpu-kernel-outlining names each module after its kernel but every
  // kernel after its function ("forward_kernel"): the kernels take their
  // module's (unique) name.
  MLIRContext *context = module.getContext();
  DenseMap<std::pair<StringAttr, StringAttr>, StringAttr> renamed;
  for (gpu::GPUModuleOp source : modules) {
    SmallVector<gpu::GPUFuncOp> kernels(source.getOps<gpu::GPUFuncOp>());
    for (gpu::GPUFuncOp kernel : kernels) {
      StringAttr name = kernels.size() == 1
                            ? source.getNameAttr()
                            : StringAttr::get(context, source.getName() + "_" +
                                                           kernel.getName());
      renamed[{source.getNameAttr(), kernel.getNameAttr()}] = name;
      kernel.setName(name);
    }
    for (Operation &op :
         llvm::make_early_inc_range(source.getBodyRegion().front()))
      op.moveBefore(&into, into.end());
  }
  WalkResult walk = module.walk([&](gpu::LaunchFuncOp launch) {
    auto it =
        renamed.find({launch.getKernelModuleName(), launch.getKernelName()});
    if (it == renamed.end()) {
      launch.emitError() << "launches a kernel that is not in a gpu.module";
      return WalkResult::interrupt();
    }
    launch.setKernelAttr(SymbolRefAttr::get(
        context, kKernelModule, {FlatSymbolRefAttr::get(it->second)}));
    return WalkResult::advance();
  });
  if (walk.wasInterrupted())
    return failure();
  for (gpu::GPUModuleOp source : modules)
    source.erase();
  return success();
}

struct UoEParallelLoopsToGpuPass
    : uoe::impl::UoEParallelLoopsToGpuPassBase<UoEParallelLoopsToGpuPass> {
  using Base::Base;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    if (mergeModules) {
      if (failed(::mergeModules(module)))
        signalPassFailure();
      return;
    }
    if (blockSize < 1 || blockSize > 1024) {
      module.emitError() << "block-size must be in [1, 1024], not "
                         << static_cast<int64_t>(blockSize);
      return signalPassFailure();
    }
    SmallVector<scf::ParallelOp> nests;
    module.walk([&](scf::ParallelOp op) {
      if (op.getNumResults() == 0 && !op->getParentOfType<scf::ParallelOp>() &&
          !op->getParentOfType<gpu::LaunchOp>() &&
          !op->getParentOfType<gpu::GPUModuleOp>())
        nests.push_back(op);
    });
    privatizeHostMemory(nests, module);
    for (scf::ParallelOp nest : nests) {
      // Inner nests first (post-order), into sequential loops per thread.
      SmallVector<scf::ParallelOp> inner;
      nest.getBody()->walk([&](scf::ParallelOp op) { inner.push_back(op); });
      for (scf::ParallelOp op : inner) {
        if (op.getNumResults() != 0) {
          op.emitError() << "a parallel loop with reductions inside a GPU "
                            "kernel is not supported";
          return signalPassFailure();
        }
        uoe::serializeParallelLoop(op, /*keepOuter=*/false);
      }
      launch(nest, blockSize);
    }
  }
};

} // namespace
