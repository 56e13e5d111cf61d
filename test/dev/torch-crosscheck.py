"""Independent recomputation of circuit vectors and heatmaps with PyTorch (dev-only, not in CI).

Called by test/dev/torch-crosscheck.ts with one argument, a folder holding `cases.json` and the raw
float32 image tensors it names. Converts each ONNX model to a torch.fx module with onnx2torch, then
computes, with torch autograd and zennit (the LRP library the PURE authors use) and nothing of ours:

- circuit vectors (DESIGN.md step 2): autograd of a_L w.r.t. a_L' seeded with ReLU(a_L) on channel c,
  times a_L', summed over space, divided by the sum of absolute values (+1e-10);
- heatmaps (step 4): gradient x input, and zennit's EpsilonPlusFlat composite, seeded over the
  neuron's whole map or at its arg-max only.

Cases with a `torchvision` entry (the Vision Transformers) run the torchvision model that
test/dev/export-vit.py exported instead of the ONNX file, hooked at the modules the entry names. Their
neurons are token features: a rank-3 activation [B, T, D] has its neurons last and its positions on
the tokens (docs/attribution.md, "Token neurons").

Writes `<name>.torch.f32` next to each case and `torch.json` with the versions used.
"""

import importlib.util
import json
from importlib import metadata
import os
import sys

import numpy as np
import onnx
import torch
from onnx2torch import convert
from onnx2torch.node_converters.activations import OnnxHardSigmoid
from onnx2torch.node_converters.binary_math_operations import OnnxBinaryMathOperation
from onnx2torch.node_converters.global_average_pool import (
    OnnxGlobalAveragePool,
    OnnxGlobalAveragePoolWithKnownInputShape,
)
from zennit.canonizers import SequentialMergeBatchNorm
from zennit.composites import EpsilonPlusFlat
from zennit.layer import Sum

torch.set_grad_enabled(True)


class StackedSum(torch.nn.Module):
    """A residual Add as zennit's Sum module, so zennit's composites apply their Norm rule to it (the role
    of zennit's ResNet canonizer; onnx2torch gives an opaque binary-op module instead)."""

    def __init__(self):
        super().__init__()
        self.sum = Sum()

    def forward(self, a, b):
        a, b = torch.broadcast_tensors(a, b)
        return self.sum(torch.stack([a, b], dim=-1))


def load(model_path):
    """The ONNX file as a torch module, with the modules a native torchvision model has where onnx2torch
    makes its own, so that zennit's composites match them by type as on the native model: residual Adds
    as zennit Sums (above), GlobalAveragePool as nn.AdaptiveAvgPool2d(1) (zennit's AvgPool: Norm rule),
    torch's HardSigmoid (alpha 1/6, beta 1/2) as nn.Hardsigmoid (zennit's Activation: Pass rule).
    onnx2torch's own modules would take the gradient rule."""
    module = convert(onnx.load(model_path), attach_onnx_mapping=True)
    for name, child in list(module.named_children()):
        replacement = None
        if isinstance(child, OnnxBinaryMathOperation) and child.math_op_function is torch.add:
            replacement = StackedSum()
        elif isinstance(child, (OnnxGlobalAveragePool, OnnxGlobalAveragePoolWithKnownInputShape)):
            replacement = torch.nn.AdaptiveAvgPool2d(1)
        elif isinstance(child, OnnxHardSigmoid) and abs(child.alpha - 1 / 6) < 1e-6 and child.beta == 0.5:
            replacement = torch.nn.Hardsigmoid()
        if replacement is not None:
            replacement.onnx_mapping = child.onnx_mapping
            setattr(module, name, replacement)
    module.eval()
    return module


def capture(module, tensor_names):
    """Forward hooks that keep the named ONNX tensors (with their autograd graph)."""
    kept = {}
    handles = []
    for child in module.modules():
        mapping = getattr(child, 'onnx_mapping', None)
        if mapping is None:
            continue
        for k, out in enumerate(mapping.outputs):
            if out in tensor_names:
                def hook(_m, _inputs, output, out=out, k=k):
                    kept[out] = output[k] if isinstance(output, (tuple, list)) else output
                handles.append(child.register_forward_hook(hook))
    missing = set(tensor_names) - {n for c in module.modules() for n in getattr(getattr(c, 'onnx_mapping', None), 'outputs', ())}
    if missing:
        raise SystemExit(f'torch-crosscheck: no module outputs {sorted(missing)}')
    return kept, handles


def load_torchvision(builder):
    """A model of test/dev/export-vit.py, rebuilt with the seed it was exported with."""
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'export-vit.py')
    spec = importlib.util.spec_from_file_location('export_vit', path)
    export_vit = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(export_vit)
    return getattr(export_vit, builder)().eval()


def capture_modules(module, modules, tensor_names):
    """Forward hooks on named torchvision modules whose outputs are the named ONNX tensors."""
    kept = {}
    handles = []
    named = dict(module.named_modules())
    for out in tensor_names:
        def hook(_m, _inputs, output, out=out):
            kept[out] = output
        handles.append(named[modules[out]].register_forward_hook(hook))
    return kept, handles


def neuron(a, row, c):
    """Channel c of a row of [B, C, H, W], or feature c at every token of [B, T, D]."""
    return a[row, :, c] if a.dim() == 3 else a[row, c]


def seed_of(a_l, channels, region):
    """ReLU(a_L) on channel c of each row (its whole map, or only its arg-max), zero elsewhere."""
    seed = torch.zeros_like(a_l)
    for row, c in enumerate(channels):
        values = neuron(a_l, row, c).detach()
        plane = torch.relu(values)
        if region == 'argmax':
            flat = values.reshape(-1)
            only = torch.zeros_like(flat)
            i = int(torch.argmax(flat))
            only[i] = torch.relu(flat[i])
            plane = only.reshape(plane.shape)
        neuron(seed, row, c)[...] = plane
    return seed


def circuit_vectors(module, images, lower, upper, channels, capture=capture):
    kept, handles = capture(module, [lower, upper])
    module(images)
    for h in handles:
        h.remove()
    a_lower, a_upper = kept[lower], kept[upper]
    (grad,) = torch.autograd.grad(a_upper, a_lower, grad_outputs=seed_of(a_upper, channels, 'map'))
    # Summed over space, or over tokens (the positions of a [B, T, D] layer).
    relevance = (grad * a_lower).sum(dim=(1,) if a_lower.dim() == 3 else (2, 3))
    return relevance / (relevance.abs().sum(dim=1, keepdim=True) + 1e-10)


def heatmap(module, images, layer, channels, composite, region, capture=capture):
    x = images.clone().requires_grad_(True)
    if composite == 'epsilon-plus-flat':
        # Merges a BatchNorm into the conv right before it (a no-op for BN-free models): the authors'
        # canonizers do, and so does ours (core/attribution/canonize.ts).
        composite_rules = EpsilonPlusFlat(epsilon=1e-6, stabilizer=1e-6, canonizers=[SequentialMergeBatchNorm()])
        context = composite_rules.context(module)
    elif composite == 'gradient':
        context = None
    else:
        raise SystemExit(f'torch-crosscheck: composite {composite} is not cross-checked')
    kept, handles = capture(module, [layer])
    try:
        if context is not None:
            context.__enter__()
        module(x)
        a_l = kept[layer]
        (grad,) = torch.autograd.grad(a_l, x, grad_outputs=seed_of(a_l, channels, region))
    finally:
        if context is not None:
            context.__exit__(None, None, None)
        for h in handles:
            h.remove()
    # zennit leaves the relevance itself in the input's gradient; plain autograd leaves the gradient.
    return grad if composite != 'gradient' else grad * x.detach()


def main(folder):
    with open(os.path.join(folder, 'cases.json')) as f:
        cases = json.load(f)
    modules = {}
    precision = {}
    for case in cases:
        vision = case.get('torchvision')
        loader = (lambda: load_torchvision(vision['builder'])) if vision else (lambda: load(case['model']))
        hooks = (lambda m, names: capture_modules(m, vision['modules'], names)) if vision else capture
        module = modules.get(case['model'])
        if module is None:
            module = modules[case['model']] = loader()
        images = torch.from_numpy(
            np.fromfile(os.path.join(folder, case['images']), dtype=np.float32).reshape(case['imageDims'])
        )
        rows = torch.tensor(case['rows'], dtype=torch.long)
        batch = images[rows]
        if case['kind'] == 'circuit':
            out = circuit_vectors(module, batch, case['lower'], case['upper'], case['channels'], hooks)
        else:
            out = heatmap(module, batch, case['layer'], case['channels'], case['composite'], case['region'], hooks)
            if case['composite'] == 'gradient':
                # How far torch's own float32 result is from float64: the size of float32 decision flips.
                module64 = modules.get((case['model'], 64))
                if module64 is None:
                    module64 = modules[(case['model'], 64)] = loader().double()
                out64 = heatmap(module64, batch.double(), case['layer'], case['channels'], 'gradient', case['region'], hooks)
                scale = out64.abs().flatten(1).max(dim=1).values
                precision[case['name']] = float(((out.double() - out64).abs().flatten(1).max(dim=1).values / scale).max())
        out.detach().numpy().astype(np.float32).tofile(os.path.join(folder, case['name'] + '.torch.f32'))
    with open(os.path.join(folder, 'torch.json'), 'w') as f:
        versions = {name: metadata.version(name) for name in ('torch', 'zennit', 'onnx2torch', 'onnx')}
        json.dump({'versions': versions, 'float32VsFloat64': precision}, f)


if __name__ == '__main__':
    main(sys.argv[1])
