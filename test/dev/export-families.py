"""Dev-only: export torchvision CNN families with random weights to ONNX, for the family cross-check
(test/dev/torch-crosscheck.ts, familyCases) and test/dev/families-run.sh. Not used by CI.

    .tools/torch-venv/bin/python test/dev/export-families.py [--out .tools/families] [name ...]

Names: mobilenet_v3_large, efficientnet_b0, convnext_tiny, densenet121 (default: all). Each model is
torchvision's architecture with its own random initialisation (no weights can be downloaded here), seeded,
in eval mode, then made less trivial than a fresh init so that every op matters in the backward pass:

- BatchNorm running statistics and affine parameters are randomised a little (a fresh BN is the identity
  in eval mode, and the exporter would fold it away without anyone noticing a wrong adjoint);
- conv and linear biases (zero at init) and LayerNorm's affine parameters (ones and zeros) too: equal
  initializers are also deduplicated by the exporter into Identity nodes, which onnx2torch cannot read
  as a conv's bias;
- ConvNeXt's layer scale (initialised to 1e-6, which makes each block the identity up to 1e-6) is set to
  values around 0.5, so the block's own branch carries a real share of the output.

Export: ONNX opset 17, input `input` [N,3,224,224] with a dynamic batch, output `logits`, constant
folding on (BatchNorm after a conv is folded into it by the exporter; DenseNet's BatchNorm before a conv
stays). Existing files are kept unless --force. Prints, and writes to <out>/README-cnn.md (the ViT export shares the folder), each model's
size and op types. Needs torch + torchvision (Debian's python3-torch 1.13) and onnx (torch-venv).
"""

import argparse
import collections
import os
import sys

import torch
import torchvision

FAMILIES = ('mobilenet_v3_large', 'efficientnet_b0', 'convnext_tiny', 'densenet121')
SEED = 0


def randomise(model, generator):
    """Norms, biases and ConvNeXt layer scales away from their constant initialisation."""
    for module in model.modules():
        if isinstance(module, (torch.nn.Conv2d, torch.nn.Linear)) and module.bias is not None:
            module.bias.data.copy_(0.05 * torch.randn(module.bias.shape, generator=generator))
        if isinstance(module, torch.nn.LayerNorm):
            shape = module.weight.shape
            module.weight.data.copy_(1 + 0.2 * torch.randn(shape, generator=generator))
            module.bias.data.copy_(0.1 * torch.randn(shape, generator=generator))
        if isinstance(module, torch.nn.BatchNorm2d):
            c = module.num_features
            module.running_mean.copy_(0.1 * torch.randn(c, generator=generator))
            module.running_var.copy_(0.5 + torch.rand(c, generator=generator))
            module.weight.data.copy_(0.5 + torch.rand(c, generator=generator))
            module.bias.data.copy_(0.1 * torch.randn(c, generator=generator))
        if isinstance(module, torchvision.models.convnext.CNBlock):
            scale = module.layer_scale
            scale.data.copy_(0.25 + 0.5 * torch.rand(scale.shape, generator=generator))


def build(name):
    torch.manual_seed(SEED)
    model = getattr(torchvision.models, name)(weights=None)
    generator = torch.Generator().manual_seed(SEED + 1)
    with torch.no_grad():
        randomise(model, generator)
    return model.eval()


def export(name, path):
    model = build(name)
    x = torch.randn(2, 3, 224, 224, generator=torch.Generator().manual_seed(SEED + 2))
    with torch.no_grad():
        torch.onnx.export(
            model,
            x,
            path,
            opset_version=17,
            input_names=['input'],
            output_names=['logits'],
            dynamic_axes={'input': {0: 'batch'}, 'logits': {0: 'batch'}},
            do_constant_folding=True,
        )


def op_types(path):
    import onnx

    model = onnx.load(path)
    onnx.checker.check_model(model)
    return collections.Counter(node.op_type for node in model.graph.node)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--out', default=os.path.join(os.path.dirname(__file__), '..', '..', '.tools', 'families'))
    parser.add_argument('--force', action='store_true', help='export again even if the file exists')
    parser.add_argument('names', nargs='*', default=list(FAMILIES))
    args = parser.parse_args()
    unknown = [n for n in args.names if n not in FAMILIES]
    if unknown:
        sys.exit(f'export-families: unknown family {unknown}; known: {", ".join(FAMILIES)}')
    os.makedirs(args.out, exist_ok=True)
    lines = [
        '# Model families (dev-only, random weights)',
        '',
        'Written by test/dev/export-families.py (torchvision architectures, seed 0, eval mode, randomised',
        'norms and biases, ConvNeXt layer scale ~0.5; ONNX opset 17, input [N,3,224,224]).',
        f'torch {torch.__version__}, torchvision {torchvision.__version__}.',
        '',
        '| model | MB | ops |',
        '| --- | --- | --- |',
    ]
    for name in FAMILIES:
        path = os.path.join(args.out, f'{name}.onnx')
        if name in args.names and (args.force or not os.path.exists(path)):
            print(f'[export-families] {name} -> {path}', file=sys.stderr)
            export(name, path)
        if not os.path.exists(path):
            continue
        ops = op_types(path)
        summary = ', '.join(f'{op} {n}' for op, n in sorted(ops.items()))
        size = os.path.getsize(path) / 1e6
        print(f'{name}: {size:.1f} MB, {sum(ops.values())} nodes: {summary}')
        lines.append(f'| {name} | {size:.1f} | {summary} |')
    with open(os.path.join(args.out, 'README-cnn.md'), 'w') as f:
        f.write('\n'.join(lines) + '\n')


if __name__ == '__main__':
    main()
