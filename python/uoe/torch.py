"""uoe.torch: a compiled uoe model as a `torch.nn.Module`.

    import uoe.torch
    layer = uoe.torch.Module("examples/uoe_layer.pbtxt", weights=state_dict)
    with torch.no_grad():
        y = layer(x)          # x: a CPU float32 tensor [B, T, d], passed without a copy

    # Training through uoe's compiled gradients:
    layer = uoe.torch.Module("examples/uoe_layer.pbtxt", weights=state_dict,
                             trainable=True)
    opt = torch.optim.AdamW(layer.parameters(), lr=1e-3)
    loss = layer(x).square().mean()
    loss.backward()           # runs the compiled `forward_grad`
    opt.step()

Without `trainable`, the weights live in uoe (bound once, converted to f32)
and the module is inference-only: a forward in training mode on inputs that
require grad raises, and so does a backward through its outputs.

With `trainable=True` (a model description only), the model is compiled
with gradients (`uoe.compile(..., gradients=True)`: the entry point
`forward_grad`, built by `--uoe-autodiff`), its weights become torch
Parameters (`module.weight(name)`; the names of docs/MODEL_FORMAT.md), and
backward runs the compiled vector-Jacobian product: it gives the gradient of
every parameter and of float inputs (hidden states) that require grad, in
f32. Routers in union mode get zero gradients, as the spec says. Each
forward binds the Parameters' current values (one copy of the weights per
call), so a torch optimizer may update them between calls. torch is imported
when this module is, never by `uoe`.
"""
try:
    import torch
except ImportError as e:
    raise ImportError(f"uoe.torch needs PyTorch, which cannot be imported: {e}") from None

import json
import os

import numpy as np

import uoe

NO_GRADIENTS = ("uoe.torch.Module is inference-only unless created with "
                "trainable=True (which compiles the model's gradients). Run it "
                "under torch.no_grad() or torch.inference_mode(), on inputs that "
                "do not require grad, or create it with trainable=True")


def _read_safetensors(path):
    """name -> float32 numpy array (f32, f16, bf16, f64 tensors)."""
    with open(path, "rb") as f:
        size = int.from_bytes(f.read(8), "little")
        header = json.loads(f.read(size))
        data = f.read()
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        begin, end = info["data_offsets"]
        raw = data[begin:end]
        dtype = info["dtype"]
        if dtype == "BF16":
            a = (np.frombuffer(raw, np.uint16).astype(np.uint32) << 16).view(np.float32)
        else:
            a = np.frombuffer(raw, {"F32": np.float32, "F16": np.float16,
                                    "F64": np.float64}[dtype]).astype(np.float32)
        out[name] = a.reshape(info["shape"])
    return out


def _key(name):
    """A ParameterDict key for a weight name (torch keys may not contain '.')."""
    return name.replace(".", "__")


class _Forward(torch.autograd.Function):
    """The model's run as an autograd node whose backward refuses."""

    @staticmethod
    def forward(ctx, model, named, *inputs):
        out = model(*inputs, **named)
        return out

    @staticmethod
    def backward(ctx, *grads):
        raise RuntimeError(NO_GRADIENTS)


class _Trainable(torch.autograd.Function):
    """forward runs `forward`, backward the compiled `forward_grad`."""

    @staticmethod
    def forward(ctx, module, named, count, *tensors):
        inputs, params = tensors[:count], tensors[count:]
        module._bind_parameters()
        out = module.model(*inputs, **named)
        ctx.module, ctx.named, ctx.count = module, named, count
        ctx.save_for_backward(*inputs)
        return out

    @staticmethod
    def backward(ctx, grad_output):
        module = ctx.module
        inputs = ctx.saved_tensors
        _, grads = module.model.vjp(*inputs, grad_output=grad_output.contiguous(),
                                    **ctx.named)
        specs = module.model.executable(inputs[0].shape[0], inputs[0].shape[1]).inputs(
            "forward")
        input_grads = []
        for spec, x in zip(specs, inputs):
            g = grads.get("d_" + spec.name)
            input_grads.append(g if g is not None and ctx.needs_input_grad[3 + len(input_grads)]
                               else None)
        param_grads = [grads["d_" + name] for name in module._names]
        return (None, None, None, *input_grads, *param_grads)


class Module(torch.nn.Module):
    """A torch.nn.Module running a uoe model.

    `Module(model)` wraps a `uoe.Model` (inference only); `Module(description,
    weights=..., trainable=False, **options)` compiles one with `uoe.compile`
    first (weights may be a torch state_dict or a safetensors path).
    `forward(*inputs, **named)` takes CPU tensors of exactly the model's
    dtypes (a description: token ids int64 [B, T] or hidden states float32
    [B, T, d], and `attention_mask`), contiguous, and returns tensors (one,
    or a tuple for several results). With `trainable=True` the weights are
    Parameters and backward runs uoe's compiled gradients (see the module
    documentation).
    """

    def __init__(self, model, weights=None, trainable=False, **options):
        super().__init__()
        self.trainable = bool(trainable)
        self._names = []
        if isinstance(model, uoe.Model):
            if weights is not None or options or trainable:
                raise TypeError("uoe.torch.Module(model): weights, trainable and options "
                                "belong to the compilation; pass a description to "
                                "compile one here")
            self.model = model
            return
        if not trainable:
            self.model = uoe.compile(model, weights, **options)
            return
        if weights is None:
            raise TypeError("uoe.torch.Module(..., trainable=True) needs the initial "
                            "weights (a state_dict or a safetensors path)")
        if isinstance(weights, (str, os.PathLike)):
            weights = _read_safetensors(os.fspath(weights))
        self.params = torch.nn.ParameterDict()
        for name, value in weights.items():
            t = value if isinstance(value, torch.Tensor) else torch.from_numpy(
                np.asarray(value))
            self.params[_key(name)] = torch.nn.Parameter(
                t.detach().to(torch.float32).clone().contiguous())
            self._names.append(name)
        self.model = uoe.compile(model, self._current(), gradients=True, **options)

    def weight(self, name):
        """The Parameter of weight `name` (docs/MODEL_FORMAT.md)."""
        return self.params[_key(name)]

    def _current(self):
        return {name: self.params[_key(name)].detach() for name in self._names}

    def _bind_parameters(self):
        self.model.bind(self._current())

    def forward(self, *inputs, **named):
        if self.trainable:
            if not torch.is_grad_enabled():
                self._bind_parameters()
                return self.model(*inputs, **named)
            params = [self.params[_key(n)] for n in self._names]
            return _Trainable.apply(self, named, len(inputs), *inputs, *params)
        grad = torch.is_grad_enabled() and any(
            isinstance(t, torch.Tensor) and t.requires_grad
            for t in list(inputs) + list(named.values()))
        if not grad:
            return self.model(*inputs, **named)
        if self.training:
            raise RuntimeError(NO_GRADIENTS + " (this module is in training mode and "
                               "its inputs require grad)")
        return _Forward.apply(self.model, named, *inputs)

    def extra_repr(self):
        return repr(self.model) + (", trainable" if self.trainable else "")
