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
    the dynamic capacity. With `routing causal_safe` (spec §7), `uoe.uome`
    and `uoe.smha` route like `uoe.moe` (each token's own top-k, no
    normalisation, dynamic capacity, zero-weight padding slots); `uoe.smha`
    also masks every expert's padding slots as keys, attending over
    `[1, E*B, L, De]` with a key mask per (expert, row).

    With `dense-layers`, the dense layers are expanded too, as autodiff
    expands them: `uoe.dense_mlp` into two one-expert `uoe.expert_matmul`s
    and `uoe.attention` into its projections (one-expert
    `uoe.expert_matmul`s) around `uoe.selective_attention` over every token,
    so that the CPU pipeline computes their GEMMs with bias and activation in
    the fused kernel's epilogue (`uoe-expert-gemm-to-calls`).
  }];
  let options = [
    Option<"denseLayers", "dense-layers", "bool", /*default=*/"false",
           "Also expand uoe.dense_mlp and uoe.attention into expert_matmul "
           "form">,
  ];
  let dependentDialects = ["::mlir::uoe::UoEDialect",
                           "::mlir::tensor::TensorDialect",
                           "::mlir::linalg::LinalgDialect",
                           "::mlir::arith::ArithDialect"];
}

def UoEAutodiffPass : Pass<"uoe-autodiff", "::mlir::ModuleOp"> {
  let summary = "Build the vector-Jacobian product `@f_grad` of a function `@f`";
  let description = [{
    Clones `@f` (option `function`, default `forward`) into `@f_grad`,
    expands its layers into the differentiable level-2 form (layer ops
    expanded, dense layers as single experts, activations split out of the
    expert GEMMs), and appends the reverse sweep. `@f_grad` takes `@f`'s
    inputs, then one seed per float result (the gradient of the objective
    with respect to that result, `uoe.input = "d_<result>"`), then `@f`'s
    parameters; it returns `@f`'s results followed by the gradient of every
    float argument (`uoe.result = "d_<argument>"`), zeros where the results
    do not depend on it (a router in union mode, spec §5).

    Before:
    ```mlir
    func.func @forward(%x: tensor<4x8xf32>, %g: tensor<8xf32> {uoe.param = "g"}) -> tensor<4x8xf32> {
      %y = uoe.rms_norm %x, %g eps 1.0e-06 : tensor<4x8xf32>, tensor<8xf32>
      return %y : tensor<4x8xf32>
    }
    ```
    After (added):
    ```mlir
    func.func @forward_grad(%x: tensor<4x8xf32>, %dy: tensor<4x8xf32> {uoe.input = "d_result0"},
                            %g: tensor<8xf32> {uoe.param = "g"})
        -> (tensor<4x8xf32>, tensor<4x8xf32> {uoe.result = "d_arg0"}, tensor<8xf32> {uoe.result = "d_g"}) {
      %y = uoe.rms_norm %x, %g eps 1.0e-06 : tensor<4x8xf32>, tensor<8xf32>
      %dx, %dg = uoe.rms_norm_grad %x, %g, %dy eps 1.0e-06 : tensor<4x8xf32>, tensor<8xf32>
      return %y, %dx, %dg : ...
    }
    ```
    Fails, naming the op, on an op without a differentiation rule.
  }];
  let options = [
    Option<"function", "function", "std::string", /*default=*/"\"forward\"",
           "The function to differentiate">,
  ];
  let dependentDialects = ["::mlir::uoe::UoEDialect",
                           "::mlir::arith::ArithDialect",
                           "::mlir::linalg::LinalgDialect",
                           "::mlir::tensor::TensorDialect"];
}

def UoEBuildTrainStepPass : Pass<"uoe-build-train-step", "::mlir::ModuleOp"> {
  let summary = "Assemble @train_step and @eval_loss from a model's @forward";
  let description = [{
    From `@forward(inputs..., params...) -> logits` builds
    `@eval_loss(inputs..., targets, params...) -> loss` (mean cross-entropy,
    `uoe.cross_entropy`) and
    `@train_step(inputs..., targets, step, params..., state...) -> (loss,
    grad_norm, lr, params'..., state'...)`: the forward, the loss, the
    reverse sweep of `--uoe-autodiff`, global-norm gradient clipping, the
    learning-rate schedule at `step` (1-based), the optional Switch-style
    load-balancing loss of every router (spec §5; it trains the routers
    even in union mode), dropout at the model's dropout points (no-op
    `tensor.cast`s with `uoe.dropout = rate`, masks hashed from `seed`, the
    step and the element) and one optimizer update
    (PyTorch's AdamW, optionally AMSGrad, or SGD with momentum). The state
    tensors are parameters named `opt.<slot>.<param>` (slots `m`, `v`,
    `vmax` or `momentum`); every updated tensor is a result with
    `uoe.updates = "<name>"`, which the runtime writes back into the bound
    parameter after a run (driver/CompileTraining.h).

    Before:
    ```mlir
    func.func @forward(%tokens: tensor<2x8xi64> {uoe.input = "tokens"},
                       %table: tensor<16x4xf32> {uoe.param = "embedding.weight"}) -> tensor<2x8x16xf32>
    ```
    After (added):
    ```mlir
    func.func @eval_loss(%tokens: ..., %targets: tensor<2x8xi64> {uoe.input = "targets"},
                         %table: ...) -> (tensor<f32> {uoe.result = "loss"})
    func.func @train_step(%tokens: ..., %targets: ..., %step: tensor<i64> {uoe.input = "step"},
                          %table: ..., %m: tensor<16x4xf32> {uoe.param = "opt.m.embedding.weight"},
                          %v: tensor<16x4xf32> {uoe.param = "opt.v.embedding.weight"})
        -> (tensor<f32> {uoe.result = "loss"}, tensor<f32> {uoe.result = "grad_norm"},
            tensor<f32> {uoe.result = "lr"},
            tensor<16x4xf32> {uoe.result = "embedding.weight", uoe.updates = "embedding.weight"}, ...)
    ```
  }];
  let options = [
    Option<"function", "function", "std::string", /*default=*/"\"forward\"",
           "The model's forward function">,
    Option<"optimizer", "optimizer", "std::string", /*default=*/"\"adamw\"",
           "adamw or sgd">,
    Option<"lr", "lr", "double", /*default=*/"1e-3", "Peak learning rate">,
    Option<"weightDecay", "weight-decay", "double", /*default=*/"0.0",
           "AdamW: decoupled weight decay; SGD: L2 penalty">,
    Option<"beta1", "beta1", "double", /*default=*/"0.9", "AdamW beta1">,
    Option<"beta2", "beta2", "double", /*default=*/"0.999", "AdamW beta2">,
    Option<"adamEps", "eps", "double", /*default=*/"1e-8", "AdamW epsilon">,
    Option<"amsgrad", "amsgrad", "bool", /*default=*/"false",
           "AdamW: use the running maximum of the second moment">,
    Option<"momentum", "momentum", "double", /*default=*/"0.9", "SGD momentum">,
    Option<"schedule", "schedule", "std::string", /*default=*/"\"constant\"",
           "constant, warmup (linear) or cosine (after a linear warm-up)">,
    Option<"warmupSteps", "warmup-steps", "int64_t", /*default=*/"0",
           "Steps of linear warm-up">,
    Option<"totalSteps", "total-steps", "int64_t", /*default=*/"0",
           "cosine: the step at which the rate reaches min-lr">,
    Option<"minLr", "min-lr", "double", /*default=*/"0.0",
           "cosine: the final learning rate">,
    Option<"clipNorm", "clip-norm", "double", /*default=*/"1.0",
           "Clip the global gradient norm to this (0: no clipping)">,
    Option<"loadBalance", "load-balance", "double", /*default=*/"0.0",
           "Weight of the Switch-style load-balancing loss (0: none)">,
    Option<"seed", "seed", "int64_t", /*default=*/"0",
           "Seed of the dropout masks (with the step and the element)">,
  ];
  let dependentDialects = ["::mlir::uoe::UoEDialect",
                           "::mlir::arith::ArithDialect",
                           "::mlir::linalg::LinalgDialect",
                           "::mlir::math::MathDialect",
                           "::mlir::tensor::TensorDialect"];
}

def UoEFuseSelectionPass : Pass<"uoe-fuse-selection"> {
  let summary = "Fuse selection with the expert GEMMs (gather in, combine out)";
  let description = [{
    Rewrites the data movement around expert GEMMs into `uoe.expert_gemm`:

    - `uoe.expert_matmul` of a `uoe.dispatch` reads the selected rows itself
      (`gather`): no dispatched `[E, R, L*P, d]` tensor. The fused GEMM keeps
      the bias and the activations `none`, `relu` and `gelu` (the CPU kernel
      runs the compiled GELU operation for operation); the other polynomial
      ones (`gelu_tanh`, `silu`, `swiglu`) follow as `uoe.activation`, so
      that the compiled code computes them the same way everywhere (forward
      and gradient passes agree bit for bit);
    - `uoe.combine` of an `uoe.expert_matmul` (or of a gathering
      `uoe.expert_gemm`) used only there adds each tile into the result as it
      is computed (`combine`): no `[E, R, L*P, width]` expert output;
    - `uoe.combine` of a sum of such GEMMs (a backward pass's data gradient
      of a dispatch that several GEMMs read, as SMHA's q, k and v) becomes
      the sum of their combines, each then fused: this regroups the sum (a
      different rounding, in gradients only; forward combines never read
      sums).

    A target then lowers `uoe.expert_gemm` tile by tile (the CPU:
    `--uoe-expert-gemm-to-calls`); anything else expands it back to the
    three ops. Apart from the combine of a sum, the rewrite only regroups
    ops: it is exact, and a dispatch or expert output that has other users
    (the backward pass keeps them) stays.

    Before:
    ```mlir
    %xs = uoe.dispatch %x, %pos patch 1 : ...
    %h = uoe.expert_matmul %xs, %w1 bias %b1 activation gelu : ...
    %ys = uoe.expert_matmul %h, %w2 bias %b2 : ...
    %y = uoe.combine %ys, %pos union patch 1 : ...
    ```
    After:
    ```mlir
    %z = uoe.expert_gemm %x, %w1 bias %b1 gather %pos patch 1 : ...
    %h = uoe.activation %z gelu : ...
    %y = uoe.expert_gemm %h, %w2 bias %b2 combine %pos patch 1 : ...
    ```
  }];
  let dependentDialects = ["::mlir::uoe::UoEDialect"];
}

def UoEExpertGemmToCallsPass
    : Pass<"uoe-expert-gemm-to-calls", "::mlir::ModuleOp"> {
  let summary = "Lower f32 uoe.expert_gemm to the CPU runtime's fused kernel";
  let description = [{
    On tensors, before bufferization: every `uoe.expert_gemm` on f32 becomes
    a call of the runtime's `uoe_expert_gemm` (runtime/CpuExpertGemm.h), which
    gathers the selected rows in the GEMM's packing, applies bias and
    activation to each tile while it is in cache and, with `combine`, adds
    the tile into the result in expert order. The operands are read through
    `bufferization.to_buffer read_only` (addresses and strides from their
    metadata); the result is a fresh buffer returned by
    `bufferization.to_tensor restrict writable`. Ops this cannot take
    (another element type; gather and combine with different positions or
    token counts) are left to `convert-uoe-to-linalg`, which expands them.

    With `precision=bf16` the kernel's products are bf16 with f32 sums, as
    `uoe-linalg-to-blas{precision=bf16}`'s GEMMs.
  }];
  let options = [
    Option<"precision", "precision", "std::string", /*default=*/"\"f32\"",
           "The GEMMs' products: f32, or bf16 with f32 accumulation">,
  ];
  let dependentDialects = ["::mlir::arith::ArithDialect",
                           "::mlir::bufferization::BufferizationDialect",
                           "::mlir::func::FuncDialect",
                           "::mlir::memref::MemRefDialect",
                           "::mlir::tensor::TensorDialect"];
}

def UoEAttentionToCallsPass
    : Pass<"uoe-attention-to-calls", "::mlir::ModuleOp"> {
  let summary = "Lower f32 uoe.selective_attention to the CPU runtime's fused kernel";
  let description = [{
    On tensors, before bufferization: every `uoe.selective_attention` on f32,
    and every dense `uoe.attention` (first rewritten into its selective form
    with one expert that selects every token), becomes a call of the runtime's `uoe_selective_attention`
    (runtime/CpuAttention.h): per (expert, row, head), rotary embedding while
    q and k are packed, scores for a block of queries and keys in registers,
    the causal and key-padding masks, an online softmax and `P v`, so that
    no `[L, L]` score or probability matrix is ever in memory. Operands are
    read in place through `bufferization.to_buffer read_only`; the result is
    a fresh buffer returned by `bufferization.to_tensor restrict writable`.
    The gradient (`uoe.selective_attention_grad`) becomes a call of
    `uoe_selective_attention_grad` the same way: per (expert, row, head) it
    recomputes the scores of 4 queries at a time (4 rows of L), then `P`,
    `dS = P (dP - rowsum(P dP))`, `dq`, and accumulates `dk`, `dv` over the
    query blocks in order.

    Example:
    ```mlir
    %o = uoe.selective_attention %q, %k, %v, %pos heads 2 causal rope compacted : ...
    // becomes
    func.call @uoe_selective_attention(%flags, %e, %r, %l, %d, %heads, %t,
        %scale, %base, %qAddress, ...) : (i64, ..., f64, f64, ...) -> ()
    ```
  }];
  let dependentDialects = ["::mlir::arith::ArithDialect",
                           "::mlir::bufferization::BufferizationDialect",
                           "::mlir::func::FuncDialect",
                           "::mlir::memref::MemRefDialect",
                           "::mlir::tensor::TensorDialect"];
}

def UoERoutingToCallsPass
    : Pass<"uoe-routing-to-calls", "::mlir::ModuleOp"> {
  let summary = "Lower f32 uoe.data_select's ranking and uoe.router's logits to the CPU runtime's kernels";
  let description = [{
    On tensors, before bufferization: every `uoe.data_select` on f32 keeps
    its patch scores and its slot count `L` in linalg (as
    `convert-uoe-to-linalg` computes them) and ranks and compacts them with
    a call of the runtime's `uoe_select_patches` (runtime/CpuRouting.h):
    O(n log n) per (expert, row) instead of the portable lowering's O(n^2)
    rank counting, with the same positions and weights (ties to the lower
    index, ascending order). The results are fresh buffers returned by
    `bufferization.to_tensor restrict writable`. Every `uoe.router` on f32
    of rank 2 or 3 gets its logits from `uoe_router_logits` (the same sums
    in the same order as the compiled router, 16 rows per vector instead of
    one) and keeps its softmax or sigmoid in linalg.
  }];
  let dependentDialects = ["::mlir::arith::ArithDialect",
                           "::mlir::bufferization::BufferizationDialect",
                           "::mlir::func::FuncDialect",
                           "::mlir::linalg::LinalgDialect",
                           "::mlir::memref::MemRefDialect",
                           "::mlir::tensor::TensorDialect"];
}

def UoENormsToCallsPass : Pass<"uoe-norms-to-calls", "::mlir::ModuleOp"> {
  let summary = "Lower f32 LayerNorm and RMSNorm, with the residual add that feeds them, and their gradients to the CPU runtime's kernels";
  let description = [{
    On tensors, before bufferization: every `uoe.layer_norm` and
    `uoe.rms_norm` on an f32 tensor of rank 2 or 3 becomes a call of the
    runtime's `uoe_norm` (runtime/CpuNorm.h), which normalises each row in
    one visit while it is in cache. When the norm's input is an
    `arith.addf` of two tensors of its type (a block's residual add), the
    kernel adds them itself; the sum is written out as well only when the
    add has other users (a pre-LN block's residual stream), which then read
    it. Their gradients (`uoe.layer_norm_grad`, `uoe.rms_norm_grad`) become
    calls of `uoe_norm_grad`: each row's dx in one visit, dgamma and dbeta
    summed over fixed blocks of rows in order (the same bits for any thread
    count).

    Example:
    ```mlir
    %s = arith.addf %x, %y : tensor<8x256x512xf32>
    %n = uoe.layer_norm %s, %g, %b eps 1.0e-5 : ...
    // becomes (flags: layer norm with beta 8 | residual 2)
    func.call @uoe_norm(%c10, %c8, %c256, %c512, %eps, %x, ..., %y, ...)
    ```
  }];
  let dependentDialects = ["::mlir::arith::ArithDialect",
                           "::mlir::bufferization::BufferizationDialect",
                           "::mlir::func::FuncDialect",
                           "::mlir::memref::MemRefDialect",
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
                           "::mlir::scf::SCFDialect",
                           "::mlir::tensor::TensorDialect"];
}

def UoELinalgToBlasPass : Pass<"uoe-linalg-to-blas", "::mlir::ModuleOp"> {
  let summary = "Replace f32 batch matmuls on buffers by calls to the runtime's BLAS";
  let description = [{
    After bufferization, rewrites every `linalg.batch_matmul` on f32 memrefs
    whose rows are contiguous (unit innermost stride) into a call of the
    runtime function `uoe_sgemm_batched` (runtime/CpuBlas.h), passing
    the buffers' addresses, sizes and strides. The runtime binds it to its
    own GEMM (runtime/CpuGemm.h: microkernels chosen from the CPU's
    features, batch-invariant), which reaches near the cores' peak where
    generated loops would not. Matmuls of other types or layouts are left alone and
    lowered to loops.

    Before:
    ```mlir
    linalg.batch_matmul ins(%a, %b : memref<4x64x32xf32>, memref<4x32x16xf32>)
                        outs(%c : memref<4x64x16xf32>)
    ```
    After:
    ```mlir
    func.call @uoe_sgemm_batched(%batch, %m, %n, %k, %pa, %lda, %sa, %false,
        %pb, %ldb, %sb, %false, %pc, %ldc, %sc, %one) : (...) -> ()
    ```
    With `precision=bf16`, the call is of `uoe_gemm_batched_bf16` (same
    arguments): the runtime rounds every element of A and B to bf16 and
    accumulates in f32 (AVX512-BF16 where the CPU has it); C stays f32.
  }];
  let options = [
    Option<"precision", "precision", "std::string", /*default=*/"\"f32\"",
           "The GEMMs' products: f32, or bf16 with f32 accumulation">,
  ];
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

def UoEParallelLoopsToGpuPass
    : Pass<"uoe-parallel-loops-to-gpu", "::mlir::ModuleOp"> {
  let summary = "Run every outermost parallel loop nest as one GPU kernel";
  let description = [{
    The GPU pipeline's mapping of loops to threads. Every outermost
    `scf.parallel` without reductions becomes a `gpu.launch` of
    `ceil(N / block-size)` blocks of `block-size` threads, where `N` is the
    product of its trip counts (known or not at compile time): thread `t`
    of block `b` runs the iteration of linear index `b * block-size + t`,
    with the innermost dimension varying fastest, so that neighbouring
    threads touch neighbouring elements. Nests with no iteration launch
    nothing. `scf.parallel` loops nested in a kernel become `scf.for` loops
    (each thread runs them). Everything else (allocation, `scf.for` loops
    around kernels, scalar code, calls of the runtime's GEMM) stays on the
    host, which the GPU pipeline gives managed memory.

    A `memref.get_global` read inside a nest is copied into a fresh buffer
    on the host first: kernels cannot address the host's globals.

    Then every `gpu.module` that gpu-kernel-outlining makes is merged into
    one (`uoe_kernels`), when that pass runs before this one's second half
    (`merge-modules`): one module to load, one PTX listing to inspect.

    Before:
    ```mlir
    scf.parallel (%i, %j) = (%c0, %c0) to (%m, %n) step (%c1, %c1) {
      ...
    }
    ```
    After:
    ```mlir
    %N = arith.muli %m, %n : index
    scf.if (%N > 0) {
      gpu.launch blocks(%b, ...) in (%gx = ceildiv(%N, 256), ...)
                 threads(%t, ...) in (%bx = 256, ...) {
        %lin = %b * 256 + %t
        scf.if (%lin < %N) { %i = %lin / %n; %j = %lin % %n; ... }
        gpu.terminator
      }
    }
    ```
  }];
  let options = [
    Option<"blockSize", "block-size", "int64_t", /*default=*/"256",
           "Threads per block">,
    Option<"mergeModules", "merge-modules", "bool", /*default=*/"false",
           "Instead of mapping loops, merge every gpu.module into one "
           "(run after gpu-kernel-outlining)">
  ];
  let dependentDialects = ["::mlir::scf::SCFDialect", "::mlir::gpu::GPUDialect",
                           "::mlir::arith::ArithDialect",
                           "::mlir::memref::MemRefDialect"];
}

def UoEGpuLaunchToLoopsPass : Pass<"uoe-gpu-launch-to-loops"> {
  let summary = "Run gpu.launch bodies as CPU parallel loops (GPU emulation)";
  let description = [{
    Rewrites every `gpu.launch` (without async tokens, dynamic shared memory
    or attributions, with a one-block body) into an `scf.parallel` over its
    grid and block dimensions whose body is the kernel's, with the block
    and thread ids as induction variables. With it, the GPU pipeline's
    mapping of loop nests to threads (uoe-parallel-loops-to-gpu) runs on
    the CPU, where its results are checked against the CPU pipeline's on
    machines without a GPU (the `gpu-emulation` target of the compiler).
  }];
  let dependentDialects = ["::mlir::scf::SCFDialect"];
}

def UoEGpuNativeMathPass : Pass<"uoe-gpu-native-math"> {
  let summary = "libdevice calls with a PTX instruction as LLVM intrinsics";
  let description = [{
    After convert-gpu-to-nvvm: rewrites the calls of libdevice's
    `__nv_fma(f)`, `__nv_floor(f)`, `__nv_ceil(f)`, `__nv_fabs(f)` and
    `__nv_sqrt(f)` into the LLVM intrinsics that NVPTX compiles to one
    instruction each (`fma.rn`, `cvt.rmi`, `cvt.rpi`, `abs`, `sqrt.rn`), which
    compute what those functions compute, and drops the declarations left
    unused. The GPU pipeline runs it on the kernels, so that the polynomials
    of uoe-approximate-math need no libdevice: kernels without other math
    compile where the CUDA toolkit is missing.
  }];
  let dependentDialects = ["::mlir::LLVM::LLVMDialect"];
}
