//===- Passes.td - passes of the uoe compiler ---------------*- tablegen -*-===//
//
// Every pass of the compiler, with the IR before and after. One pass per
// file (`<VerbNoun>.cpp`), one test per pass (`test/passes/<flag>.mlir`).
//
//===----------------------------------------------------------------------===//

#ifndef UOE_PASSES_PASSES_TD
#define UOE_PASSES_PASSES_TD

include "mlir/Pass/PassBase.td"

def UoEExpandLayersPass : Pass<"uoe-expand-layers"> {
  let summary = "Expand expert layer ops into routing and expert ops";
  let description = [{
    Rewrites the expert layers (`uoe.uome`, `uoe.smha`, `uoe.moe`) into the
    routing and expert ops of level 2, following spec §2-§6. Dense layers and
    norms are left alone.

    Before:
    ```mlir
    %y = uoe.uome %x, router(%wg, %bg), up(%w1, %b1), down(%w2, %b2)
        top 2 capacity 5.000000e-01 activation gelu union : ...
    ```
    After:
    ```mlir
    %p = uoe.router %x, %wg, %bg score softmax : ...
    %g = uoe.token_choice %p top 2 normalize axis 0 eps 1.0e-06 capacity 1.0 : ...
    %pos, %w = uoe.data_select %g patch 1 capacity 5.000000e-01 : ...
    %xs = uoe.dispatch %x, %pos patch 1 : ...
    %h = uoe.expert_matmul %xs, %w1 bias %b1 activation gelu : ...
    %ys = uoe.expert_matmul %h, %w2 bias %b2 : ...
    %y = uoe.combine %ys, %pos union patch 1 : ...
    ```
    `uoe.smha` selects with dynamic capacity and attends with
    `uoe.selective_attention`; `uoe.moe` (token choice) keeps each token's
    `top` experts, lets every expert select its tokens with dynamic capacity
    and combines with the gate weights, which are zero for the padding of
    the dynamic capacity.
  }];
  let dependentDialects = ["::mlir::uoe::UoEDialect",
                           "::mlir::tensor::TensorDialect"];
}

def UoEConvertUoEToLinalgPass : Pass<"convert-uoe-to-linalg"> {
  let summary = "Lower every uoe op to linalg, tensor, arith and math on tensors";
  let description = [{
    Expands the layer ops (as `--uoe-expand-layers`), rewrites the dense
    layers into single-expert ops, and lowers routing, selection, dispatch,
    expert GEMMs, attention, combine, norms and embeddings to `linalg` on
    tensors, grouped by op family (RoutingToLinalg.cpp,
    ExpertComputeToLinalg.cpp, AttentionToLinalg.cpp, NormsToLinalg.cpp,
    EmbeddingToLinalg.cpp). GEMMs become
    `linalg.batch_matmul`; selection becomes rank-based generics (stable ties
    by construction); the combine sums experts in order. Fails, naming the
    op, if any uoe op is left.

    Before:
    ```mlir
    %y = uoe.expert_matmul %x, %w bias %b activation relu : ...
    ```
    After:
    ```mlir
    %0 = linalg.batch_matmul ins(%x, %w : ...) outs(%zeros : ...) -> ...
    %1 = linalg.generic ... { addf, maximumf } -> ...
    ```
  }];
  let dependentDialects = ["::mlir::uoe::UoEDialect",
                           "::mlir::arith::ArithDialect",
                           "::mlir::linalg::LinalgDialect",
                           "::mlir::math::MathDialect",
                           "::mlir::tensor::TensorDialect"];
}

def UoELinalgToBlasPass : Pass<"uoe-linalg-to-blas", "::mlir::ModuleOp"> {
  let summary = "Replace f32 batch matmuls on buffers by calls to the runtime's BLAS";
  let description = [{
    After bufferization, rewrites every `linalg.batch_matmul` on f32 memrefs
    whose rows are contiguous (unit innermost stride) into a call of the
    runtime function `uoe_cpu_sgemm_batched` (runtime/CpuBlas.h), passing
    the buffers' addresses, sizes and strides. The runtime binds it to a
    tuned BLAS (OpenBLAS), which reaches the cores' peak where generated
    loops would not. Matmuls of other types or layouts are left alone and
    lowered to loops.

    Before:
    ```mlir
    linalg.batch_matmul ins(%a, %b : memref<4x64x32xf32>, memref<4x32x16xf32>)
                        outs(%c : memref<4x64x16xf32>)
    ```
    After:
    ```mlir
    func.call @uoe_cpu_sgemm_batched(%batch, %m, %n, %k, %pa, %lda, %sa, %false,
        %pb, %ldb, %sb, %false, %pc, %ldc, %sc, %one) : (...) -> ()
    ```
  }];
  let dependentDialects = ["::mlir::func::FuncDialect",
                           "::mlir::memref::MemRefDialect",
                           "::mlir::arith::ArithDialect"];
}

def UoEApproximateMathPass : Pass<"uoe-approximate-math"> {
  let summary = "Replace f32 exp, erf and tanh by polynomial approximations";
  let description = [{
    libm calls block LLVM's loop vectorizer; MLIR's polynomial
    approximations of `math.exp`, `math.erf` and `math.tanh` on f32 are plain
    arithmetic that vectorizes, accurate to a few ulp (the numeric tests
    compare the results with a float64 reference at 1e-5 relative). Other
    types (the float64 rotary tables) keep their libm calls.

    Before:
    ```mlir
    %e = math.exp %x : f32
    ```
    After: a sequence of `arith` ops (range reduction and a polynomial).
  }];
  let dependentDialects = ["::mlir::arith::ArithDialect",
                           "::mlir::math::MathDialect",
                           "::mlir::vector::VectorDialect"];
}

def UoEProtectArgumentsPass : Pass<"uoe-protect-arguments", "::mlir::ModuleOp"> {
  let summary = "Keep bufferization from writing into function arguments";
  let description = [{
    The runtime passes inputs and weights to compiled entry points as
    read-only buffers: they are bound once and reused by every call. One-shot
    bufferization, however, treats tensor arguments as writable and may
    reuse an argument's buffer for a result computed in place. This pass
    marks every tensor argument of every function with a body
    `bufferization.writable = false`, so that such ops get a fresh buffer.
    Arguments already marked are left alone.

    Before:
    ```mlir
    func.func @forward(%x: tensor<2x8xf32>) -> tensor<2x8xf32>
    ```
    After:
    ```mlir
    func.func @forward(%x: tensor<2x8xf32> {bufferization.writable = false})
        -> tensor<2x8xf32>
    ```
  }];
  let dependentDialects = ["::mlir::bufferization::BufferizationDialect"];
}

def UoESerializeInnerParallelLoopsPass
    : Pass<"uoe-serialize-inner-parallel-loops"> {
  let summary = "Keep one parallel dimension per loop nest";
  let description = [{
    Rewrites every outermost multi-dimensional `scf.parallel` into an
    `scf.parallel` over its first dimension around `scf.for` loops over the
    others, and every `scf.parallel` nested in another one into `scf.for`
    loops. The CPU pipeline runs it between convert-linalg-to-parallel-loops
    and convert-scf-to-openmp, so that each loop nest becomes one OpenMP
    work-sharing loop over its outermost dimension whose inner loops LLVM
    can still vectorize. A nest whose innermost iterations are known
    statically and fewer than `min-parallel-work` becomes sequential
    altogether. Loops with reductions are left alone.

    Before:
    ```mlir
    scf.parallel (%i, %j) = (%c0, %c0) to (%m, %n) step (%c1, %c1) {
      ...
    }
    ```
    After:
    ```mlir
    scf.parallel (%i) = (%c0) to (%m) step (%c1) {
      scf.for %j = %c0 to %n step %c1 {
        ...
      }
    }
    ```
  }];
  let options = [
    Option<"minParallelWork", "min-parallel-work", "int64_t", /*default=*/"32768",
           "Nests with fewer innermost iterations (known statically) run "
           "sequentially">
  ];
  let dependentDialects = ["::mlir::scf::SCFDialect"];
}

#endif // UOE_PASSES_PASSES_TD
