"""Dev-only: export torchvision Vision Transformers to ONNX for pure's ViT tests (docs/attribution.md, "Token neurons").

  .tools/torch-venv/bin/python test/dev/export-vit.py            # the tiny fixture (committed)
  .tools/torch-venv/bin/python test/dev/export-vit.py --vit-b-16  # and ViT-B/16 (random weights, 330 MB, not committed)

The tiny ViT is `torchvision.models.VisionTransformer` with 2 encoder blocks on 32x32 CIFAR images,
random weights from a fixed seed (no training: the tests need a real ViT graph, not a good classifier),
exported as the shared CIFAR models are (test/fixtures/models/README.md): input `input` [N, 3, 32, 32]
(RGB/255 then the ImageNet mean/std: `--preprocess cifar10`), output `logits` [N, 10], batch axis `N`
dynamic; opset 17, so LayerNorm is one LayerNormalization node, GELU goes through Erf, attention is
MatMul/Transpose/Reshape/Softmax, the class token Expand + Concat, the class-token output a Gather.
Run with torch 1.13 (Debian's python3-torch; test/dev/torch-setup.sh), the exporter the files were made with.
"""

import argparse
import pathlib

import torch
import torchvision

ROOT = pathlib.Path(__file__).resolve().parents[2]
TINY = ROOT / "test/fixtures/models/vit-tiny-cifar10.onnx"
VIT_B_16 = ROOT / ".tools/families/vit_b_16.onnx"
TINY_ARCH = dict(image_size=32, patch_size=8, num_layers=2, num_heads=2, hidden_dim=32, mlp_dim=64, num_classes=10)


def export(model: torch.nn.Module, size: int, path: pathlib.Path) -> None:
    model.eval()
    path.parent.mkdir(parents=True, exist_ok=True)
    example = torch.randn(2, 3, size, size, generator=torch.Generator().manual_seed(1))
    torch.onnx.export(
        model,
        example,
        str(path),
        input_names=["input"],
        output_names=["logits"],
        dynamic_axes={"input": {0: "N"}, "logits": {0: "N"}},
        opset_version=17,
        do_constant_folding=True,
    )
    print(f"[export-vit] {path.relative_to(ROOT)}: {path.stat().st_size / 1024:.0f} KiB")


def tiny_vit() -> torch.nn.Module:
    """The fixture's model, the same weights every time (test/dev/torch-crosscheck.py rebuilds it)."""
    torch.manual_seed(0)
    tiny = torchvision.models.VisionTransformer(**TINY_ARCH)
    # torchvision initialises the class token and the head with zeros; the head's zeros would make
    # every logit 0 (a constant classifier), a zero class token a token like no other.
    torch.nn.init.normal_(tiny.heads.head.weight, std=0.2)
    torch.nn.init.normal_(tiny.class_token, std=0.5)
    return tiny.eval()


def vit_b_16() -> torch.nn.Module:
    """torchvision's ViT-B/16 architecture with random weights (seed 0): no weights are downloaded."""
    torch.manual_seed(0)
    return torchvision.models.vit_b_16(weights=None).eval()


MODELS = {"vit-tiny-cifar10": (tiny_vit, 32, TINY), "vit_b_16": (vit_b_16, 224, VIT_B_16)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--vit-b-16", action="store_true", help="also export ViT-B/16 (224x224, random weights) to .tools/families/")
    args = parser.parse_args()
    for name, (build, size, path) in MODELS.items():
        if name == "vit_b_16" and not args.vit_b_16:
            continue
        export(build(), size, path)


if __name__ == "__main__":
    main()
