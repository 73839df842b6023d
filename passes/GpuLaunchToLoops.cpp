//===- GpuLaunchToLoops.cpp - GPU launches back into CPU loops -----------===//
//
// See UoEGpuLaunchToLoopsPass in Passes.td: the inverse of
// uoe-parallel-loops-to-gpu, so that the GPU pipeline's mapping of loop
// nests to blocks and threads runs (and is tested) on a machine without a
// GPU (`--uoe-gpu-emulation-pipeline`).
//
//===----------------------------------------------------------------------===//

#include "passes/Passes.h"

#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/SCF/IR/SCF.h"

namespace mlir::uoe {
#define GEN_PASS_DEF_UOEGPULAUNCHTOLOOPSPASS
#include "passes/Passes.h.inc"
} // namespace mlir::uoe

using namespace mlir;

namespace {

/// Rewrites `launch` into an scf.parallel over (blocks x, y, z, threads x,
/// y, z) around its body.
LogicalResult emulate(gpu::LaunchOp launch) {
  if (launch.getAsyncToken() || !launch.getAsyncDependencies().empty() ||
      launch.getDynamicSharedMemorySize() ||
      !launch.getWorkgroupAttributions().empty() ||
      !launch.getPrivateAttributions().empty() || launch.hasClusterSize() ||
      !launch.getBody().hasOneBlock())
    return launch.emitError()
           << "only a synchronous launch with a one-block body and no "
              "shared memory can be emulated";
  OpBuilder b(launch);
  Location loc = launch.getLoc();
  Value zero = arith::ConstantIndexOp::create(b, loc, 0);
  Value one = arith::ConstantIndexOp::create(b, loc, 1);
  gpu::KernelDim3 grid = launch.getGridSizeOperandValues();
  gpu::KernelDim3 block = launch.getBlockSizeOperandValues();
  SmallVector<Value> upper = {grid.x,  grid.y,  grid.z,
                              block.x, block.y, block.z};
  auto loop = scf::ParallelOp::create(b, loc, SmallVector<Value>(6, zero),
                                      upper, SmallVector<Value>(6, one));
  Block &body = launch.getBody().front();
  gpu::KernelDim3 blockIds = launch.getBlockIds();
  gpu::KernelDim3 threadIds = launch.getThreadIds();
  gpu::KernelDim3 gridSize = launch.getGridSize();
  gpu::KernelDim3 blockSize = launch.getBlockSize();
  ValueRange ivs = loop.getInductionVars();
  for (auto [arg, value] :
       llvm::zip(SmallVector<Value>{blockIds.x, blockIds.y, blockIds.z,
                                    threadIds.x, threadIds.y, threadIds.z,
                                    gridSize.x, gridSize.y, gridSize.z,
                                    blockSize.x, blockSize.y, blockSize.z},
                 SmallVector<Value>{ivs[0], ivs[1], ivs[2], ivs[3], ivs[4],
                                    ivs[5], grid.x, grid.y, grid.z, block.x,
                                    block.y, block.z}))
    arg.replaceAllUsesWith(value);
  body.getTerminator()->erase();
  Block *into = loop.getBody();
  into->getOperations().splice(into->getTerminator()->getIterator(),
                               body.getOperations());
  launch.erase();
  return success();
}

struct UoEGpuLaunchToLoopsPass
    : uoe::impl::UoEGpuLaunchToLoopsPassBase<UoEGpuLaunchToLoopsPass> {
  void runOnOperation() override {
    SmallVector<gpu::LaunchOp> launches;
    getOperation()->walk([&](gpu::LaunchOp op) { launches.push_back(op); });
    for (gpu::LaunchOp launch : launches)
      if (failed(emulate(launch)))
        return signalPassFailure();
  }
};

} // namespace
