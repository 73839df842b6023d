"""uoe.torch: a compiled uoe model as a `torch.nn.Module`, for inference.

    import uoe.torch
    layer = uoe.torch.Module("examples/uoe_layer.pbtxt", weights=state_dict)
    with torch.no_grad():
        y = layer(x)          # x: a CPU float32 tensor [B, T, d], passed without a copy

The module runs the compiled code of `uoe.compile`; its weights live in uoe
(bound once, converted to f32), not in torch Parameters. Training does not
exist yet: uoe cannot compile gradients (issue 4), so the module is
INFERENCE-ONLY. A forward in training mode with inputs that require grad
raises at once; in eval mode such inputs give outputs that require grad, and
calling backward through them raises. Both say that compiled gradients are
not available yet. torch is imported when this module is, never by `uoe`.
"""
try:
    import torch
except ImportError as e:
    raise ImportError(f"uoe.torch needs PyTorch, which cannot be imported: {e}") from None

import uoe

NO_GRADIENTS = ("uoe.torch.Module is inference-only: compiled gradients are not "
                "available yet (uoe cannot differentiate its compiled models, so "
                "it cannot train them). Run it under torch.no_grad() or "
                "torch.inference_mode(), on inputs that do not require grad")


class _Forward(torch.autograd.Function):
    """The model's run as an autograd node whose backward refuses."""

    @staticmethod
    def forward(ctx, model, named, *inputs):
        out = model(*inputs, **named)
        return out

    @staticmethod
    def backward(ctx, *grads):
        raise RuntimeError(NO_GRADIENTS)


class Module(torch.nn.Module):
    """An inference-only torch.nn.Module running a uoe model.

    `Module(model)` wraps a `uoe.Model`; `Module(description, weights=...,
    **options)` compiles one with `uoe.compile` first (weights may be a
    torch state_dict). `forward(*inputs, **named)` takes CPU tensors of
    exactly the model's dtypes (a description: token ids int64 [B, T] or
    hidden states float32 [B, T, d], and `attention_mask`), contiguous,
    and returns tensors (one, or a tuple for several results) that share
    memory with nothing of the caller's.
    """

    def __init__(self, model, weights=None, **options):
        super().__init__()
        if not isinstance(model, uoe.Model):
            model = uoe.compile(model, weights, **options)
        elif weights is not None or options:
            raise TypeError("uoe.torch.Module(model): weights and options belong to "
                            "uoe.compile; pass a description to compile one here")
        self.model = model

    def forward(self, *inputs, **named):
        grad = torch.is_grad_enabled() and any(
            isinstance(t, torch.Tensor) and t.requires_grad
            for t in list(inputs) + list(named.values()))
        if not grad:
            return self.model(*inputs, **named)
        if self.training:
            raise RuntimeError(NO_GRADIENTS + " (this module is in training mode and "
                               "its inputs require grad; call .eval() and use "
                               "torch.no_grad())")
        return _Forward.apply(self.model, named, *inputs)

    def extra_repr(self):
        return repr(self.model)
