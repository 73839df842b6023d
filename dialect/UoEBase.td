//===- UoEBase.td - the uoe dialect and its enums ------------*- tablegen -*-===//
//
// The `uoe` dialect and the typed options of docs/SPEC.md: router
// score function, expert activation, combine mode and rotary position mode.
// Every option that the spec names is an enum here, never a string.
//
//===----------------------------------------------------------------------===//

#ifndef UOE_DIALECT_UOEBASE_TD
#define UOE_DIALECT_UOEBASE_TD

include "mlir/IR/OpBase.td"
include "mlir/IR/AttrTypeBase.td"
include "mlir/IR/EnumAttr.td"

def UoE_Dialect : Dialect {
  let name = "uoe";
  let cppNamespace = "::mlir::uoe";
  let summary = "Union-of-Experts and Mixture-of-Experts layers, routing and expert compute";
  let description = [{
    The `uoe` dialect describes Union-of-Experts (UoE) models and the wider
    Mixture-of-Experts family at two levels:

    1. **Layer ops** (`uoe.uome`, `uoe.smha`, `uoe.moe`, `uoe.dense_mlp`,
       `uoe.attention`, norms, `uoe.embedding`): what a model description
       says, with the choices of the spec as typed attributes.
    2. **Routing and expert ops** (`uoe.router`, `uoe.token_choice`,
       `uoe.data_select`, `uoe.expert_select`, `uoe.dispatch`,
       `uoe.expert_matmul`, `uoe.selective_attention`, `uoe.combine`): the
       pieces a layer op expands into (`--uoe-expand-layers`), which later
       passes fuse and lower.

    All ops are value-semantic on ranked tensors. Shapes are static except the
    data-dependent capacity `L` of dynamic data selection, written `?`.
    Expert weights use the stacked layout of the spec: `W1s: [E,d,Fe]`,
    `W2s: [E,Fe,d]`. Ties in every top-k are broken by the lower index
    ("stable").
  }];
  let useDefaultAttributePrinterParser = 1;
  let hasConstantMaterializer = 1;
}

class UoE_I32Enum<string name, string description, list<I32EnumAttrCase> cases>
    : I32EnumAttr<name, description, cases> {
  let genSpecializedAttr = 0;
  let cppNamespace = "::mlir::uoe";
}

class UoE_EnumAttr<UoE_I32Enum enumInfo, string mnemonic>
    : EnumAttr<UoE_Dialect, enumInfo, mnemonic> {
  // `#uoe.score<softmax>` on its own; op formats print the bare keyword
  // through `custom<EnumKeyword>` (`score softmax`).
  let assemblyFormat = "`<` $value `>`";
}

//===----------------------------------------------------------------------===//
// Router score function (spec §2)
//===----------------------------------------------------------------------===//

def UoE_RouterScore : UoE_I32Enum<"RouterScore",
    "router score function over the expert axis", [
      I32EnumAttrCase<"Softmax", 0, "softmax">,
      I32EnumAttrCase<"Sigmoid", 1, "sigmoid">]>;
def UoE_RouterScoreAttr : UoE_EnumAttr<UoE_RouterScore, "score">;

//===----------------------------------------------------------------------===//
// Expert activation (spec §5)
//===----------------------------------------------------------------------===//

def UoE_Activation : UoE_I32Enum<"Activation",
    "activation between the two expert GEMMs", [
      I32EnumAttrCase<"None", 0, "none">,
      // Exact GELU: x * Phi(x) with the error function (the spec's default).
      I32EnumAttrCase<"Gelu", 1, "gelu">,
      I32EnumAttrCase<"GeluTanh", 2, "gelu_tanh">,
      I32EnumAttrCase<"Relu", 3, "relu">,
      I32EnumAttrCase<"Silu", 4, "silu">,
      // silu(gate) * up over the two halves [gate | up] of the first GEMM's
      // output, which is therefore twice as wide as the hidden width.
      I32EnumAttrCase<"SwiGlu", 5, "swiglu">]>;
def UoE_ActivationAttr : UoE_EnumAttr<UoE_Activation, "activation">;

//===----------------------------------------------------------------------===//
// Combine mode (spec §5)
//===----------------------------------------------------------------------===//

def UoE_CombineMode : UoE_I32Enum<"CombineMode",
    "how expert outputs are summed back", [
      // w = 1: the authors' reference behaviour; the router gets no gradient.
      I32EnumAttrCase<"Union", 0, "union">,
      // w = the normalised routing score: the router gets a gradient.
      I32EnumAttrCase<"Gated", 1, "gated">]>;
def UoE_CombineModeAttr : UoE_EnumAttr<UoE_CombineMode, "combine">;

//===----------------------------------------------------------------------===//
// Rotary position mode (spec §6)
//===----------------------------------------------------------------------===//

def UoE_RopeMode : UoE_I32Enum<"RopeMode",
    "positions fed to the rotary embedding", [
      I32EnumAttrCase<"None", 0, "none">,
      // Positions 0..L-1 of the compacted (selected) order: reference mode.
      I32EnumAttrCase<"Compacted", 1, "compacted">,
      // The tokens' original positions: corrected mode.
      I32EnumAttrCase<"Original", 2, "original">]>;
def UoE_RopeModeAttr : UoE_EnumAttr<UoE_RopeMode, "rope">;

//===----------------------------------------------------------------------===//
// Routing mode (spec §7)
//===----------------------------------------------------------------------===//

def UoE_RoutingMode : UoE_I32Enum<"RoutingMode",
    "how an expert layer's tokens are routed", [
      // Spec §2-§6: normalisation over axis 0 and expert-choice selection
      // ranked over the whole routed tensor (the authors' behaviour).
      I32EnumAttrCase<"Reference", 0, "reference">,
      // Spec §7: each token keeps its top-k experts by its own probability,
      // nothing is normalised across tokens, and every expert processes
      // exactly the tokens that chose it, so a token's output never depends
      // on later tokens (or on other sequences of the batch).
      I32EnumAttrCase<"CausalSafe", 1, "causal_safe">]>;

def UoE_RoutingModeAttr : UoE_EnumAttr<UoE_RoutingMode, "routing">;

//===----------------------------------------------------------------------===//
// Type constraints
//===----------------------------------------------------------------------===//

def UoE_FloatTensor : RankedTensorOf<[F16, BF16, F32, F64]>;
def UoE_IndexTensor : RankedTensorOf<[I64]>;
def UoE_MaskTensor : RankedTensorOf<[I1]>;

class UoE_Op<string mnemonic, list<Trait> traits = []>
    : Op<UoE_Dialect, mnemonic, traits>;

#endif // UOE_DIALECT_UOEBASE_TD
