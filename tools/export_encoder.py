#!/usr/bin/env python3
"""Export an image encoder (CLIP or DINOv2 vision tower) to ONNX for `pure run --evaluator`.

The exported graph has exactly one input and one output:

* ``input``     float32 [N, 3, S, S], an image already resized, centre-cropped, scaled to [0, 1]
                and normalised with the encoder's mean/std (the `<out>.json` written next to the
                model says which);
* ``embedding`` float32 [N, D], one vector per image.

The batch axis N is dynamic; S is fixed by the encoder (224 for ViT-B-32).

Which tensor is ``embedding`` (``--pooling``):

* ``mean`` (default, the paper's choice: "mean of the last hidden state") -- the mean over ALL tokens
  (class token included) of the vision transformer's last hidden state:

  - CLIP (open_clip): the output of ``visual.transformer``, i.e. after the last residual block and
    before ``ln_post`` and ``proj``. This is exactly what Hugging Face's ``CLIPVisionModel`` returns as
    ``last_hidden_state`` (its ``post_layernorm`` only touches the pooled class token), so the result
    equals ``CLIPVisionModel(...).last_hidden_state.mean(1)`` for the same weights. D = width
    (768 for ViT-B-32).
  - DINOv2 (transformers): ``Dinov2Model(...).last_hidden_state.mean(1)``; in this model the last
    hidden state is taken after the final layer norm. D = hidden size (384 small, 768 base).

* ``cls`` -- the class token as the libraries pool it: CLIP ``ln_post(last_hidden_state[:, 0])``
  (= ``CLIPVisionModel.pooler_output``), DINOv2 ``last_hidden_state[:, 0]`` (= ``pooler_output``).
* ``proj`` -- CLIP only: the image embedding in the joint image-text space, ``visual(x)`` =
  ``ln_post(class token) @ proj`` (= ``model.encode_image``). D = embed dim (512 for ViT-B-32).

After export the script checks the file with ``onnx.checker`` and compares onnxruntime's output with
torch's on a random batch of a different size than the one traced (so the dynamic batch axis is
exercised), printing the max absolute difference.

Weights: no download is attempted. Pass local files (``--weights``) or ``--random-init`` to exercise
the code path without weights.

Examples::

    # CLIP ViT-B/32 from an open_clip checkpoint file (e.g. open_clip_pytorch_model.bin)
    python tools/export_encoder.py --family clip --arch ViT-B-32 \\
        --weights path/to/open_clip_pytorch_model.bin --out clip-vit-b32.onnx

    # DINOv2 from a folder written by Dinov2Model.save_pretrained (config.json + weights)
    python tools/export_encoder.py --family dinov2 --weights path/to/dinov2-base --out dinov2-base.onnx

    # the code path without weights
    python tools/export_encoder.py --family clip --random-init --out /tmp/clip-random.onnx
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

INPUT_NAME = "input"
OUTPUT_NAME = "embedding"

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)

# Hub configurations of the released DINOv2 backbones (facebook/dinov2-*), used for --random-init.
DINOV2_SIZES = {
    "small": dict(hidden_size=384, num_hidden_layers=12, num_attention_heads=6),
    "base": dict(hidden_size=768, num_hidden_layers=12, num_attention_heads=12),
    "large": dict(hidden_size=1024, num_hidden_layers=24, num_attention_heads=16),
    "giant": dict(hidden_size=1536, num_hidden_layers=40, num_attention_heads=24, use_swiglu_ffn=True),
}


@dataclass(frozen=True)
class PreprocessSpec:
    """The project's PreprocessSpec (core/compute/images/preprocess.ts), written as `<out>.json`."""

    resizeShortSide: int
    cropSize: int
    mean: tuple[float, float, float]
    std: tuple[float, float, float]
    # Both open_clip and DINOv2's processor resize bicubically; pure's spec says so (sharp's cubic kernel).
    interpolation: str = "bicubic"


@dataclass
class Encoder:
    """A torch module mapping a normalised [N, 3, S, S] batch to [N, D], plus what describes it."""

    module: nn.Module
    image_size: int
    preprocess: PreprocessSpec
    description: str


def log(message: str) -> None:
    """Progress goes to stderr, so stdout stays free for the summary line."""
    print(f"[export_encoder] {message}", file=sys.stderr, flush=True)


# --------------------------------------------------------------------------------------------------
# CLIP (open_clip)
# --------------------------------------------------------------------------------------------------


class ClipVisionEmbedding(nn.Module):
    """open_clip's vision tower with the chosen pooling of its last hidden state.

    Rather than re-implementing ``VisionTransformer.forward`` (whose token layout changed across
    open_clip releases: LND before 2.25, NLD after), a forward hook captures the output of
    ``visual.transformer``; the layout is read from the transformer's ``batch_first`` attribute
    (absent = LND). For ``mean`` and ``cls`` the unused tail (``ln_post``/``proj``) is traced too but
    dropped by the exporter's dead-code elimination.
    """

    def __init__(self, visual: nn.Module, pooling: str) -> None:
        super().__init__()
        self.visual = visual
        self.pooling = pooling
        self._captured: list[torch.Tensor] = []
        if pooling != "proj":
            transformer = getattr(visual, "transformer", None)
            if transformer is None:
                raise SystemExit(
                    f"--pooling {pooling} needs a ViT vision tower (visual.transformer); "
                    f"{type(visual).__name__} has none: use --pooling proj"
                )
            self._batch_first = bool(getattr(transformer, "batch_first", False))
            transformer.register_forward_hook(self._capture)

    def _capture(self, _module: nn.Module, _inputs: tuple[torch.Tensor, ...], output: torch.Tensor) -> None:
        self._captured.append(output)

    def last_hidden_state(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Runs the tower; returns (tokens [N, L, W] as they leave the transformer, visual's output)."""
        self._captured.clear()
        pooled = self.visual(x)
        if isinstance(pooled, tuple):  # output_tokens=True variants
            pooled = pooled[0]
        if self.pooling == "proj":
            return pooled, pooled
        (tokens,) = self._captured
        self._captured.clear()
        if not self._batch_first:
            tokens = tokens.permute(1, 0, 2)  # LND -> NLD
        return tokens, pooled

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        tokens, pooled = self.last_hidden_state(x)
        if self.pooling == "mean":
            return tokens.mean(dim=1)
        if self.pooling == "cls":
            return self.visual.ln_post(tokens[:, 0])
        return pooled


def clip_preprocess(visual: nn.Module, image_size: int) -> PreprocessSpec:
    """open_clip's eval transform (Resize(S, bicubic) on the short side, CenterCrop(S)) as a spec."""
    import open_clip

    cfg = dict(getattr(visual, "preprocess_cfg", {}) or {})
    mean = tuple(cfg.get("mean") or getattr(visual, "image_mean", None) or open_clip.OPENAI_DATASET_MEAN)
    std = tuple(cfg.get("std") or getattr(visual, "image_std", None) or open_clip.OPENAI_DATASET_STD)
    resize_mode = cfg.get("resize_mode", "shortest")
    if resize_mode != "shortest":
        log(
            f"warning: open_clip resize_mode is {resize_mode!r}; "
            "the spec approximates it by short-side resize + crop"
        )
    return PreprocessSpec(image_size, image_size, mean, std)  # type: ignore[arg-type]


def load_clip(arch: str, weights: str | None, pooling: str) -> Encoder:
    """An open_clip model's vision tower, from a local checkpoint file or randomly initialised."""
    import open_clip

    if arch not in open_clip.list_models():
        raise SystemExit(f"unknown open_clip arch {arch!r}; known: {', '.join(open_clip.list_models())}")
    if weights is not None and not Path(weights).is_file():
        raise SystemExit(f"--weights {weights}: no such file (open_clip wants the checkpoint file itself)")
    # pretrained=<existing file path> makes open_clip load that file and never touch the network.
    model = open_clip.create_model(arch, pretrained=weights, device="cpu")
    visual = model.visual.eval()
    size = visual.image_size
    image_size = int(size[0] if isinstance(size, tuple | list) else size)
    source = weights if weights else "random init"
    return Encoder(
        module=ClipVisionEmbedding(visual, pooling).eval(),
        image_size=image_size,
        preprocess=clip_preprocess(visual, image_size),
        description=f"open_clip {arch} vision tower ({source}), pooling={pooling}",
    )


# --------------------------------------------------------------------------------------------------
# DINOv2 (transformers)
# --------------------------------------------------------------------------------------------------


class Dinov2Embedding(nn.Module):
    """transformers' Dinov2Model with the chosen pooling of ``last_hidden_state`` (post layer norm)."""

    def __init__(self, model: nn.Module, pooling: str) -> None:
        super().__init__()
        if pooling == "proj":
            raise SystemExit(
                "--pooling proj is CLIP's image-text projection; DINOv2 has none (use mean or cls)"
            )
        self.model = model
        self.pooling = pooling

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        tokens = self.model(pixel_values=x, return_dict=True).last_hidden_state
        return tokens.mean(dim=1) if self.pooling == "mean" else tokens[:, 0]


def dinov2_preprocess(weights: str | None, image_size: int) -> PreprocessSpec:
    """DINOv2's image processor (BitImageProcessor: resize short side 256 bicubic, crop 224, ImageNet
    mean/std), read from the weights folder's preprocessor_config.json when there is one. For another
    --image-size the 256/224 ratio is kept."""
    resize = (image_size * 256) // 224
    mean, std = IMAGENET_MEAN, IMAGENET_STD
    config_path = Path(weights) / "preprocessor_config.json" if weights else None
    if config_path is not None and config_path.is_file():
        cfg = json.loads(config_path.read_text())
        mean = tuple(cfg.get("image_mean", mean))
        std = tuple(cfg.get("image_std", std))
        crop = cfg.get("crop_size", {})
        crop = crop.get("height", image_size) if isinstance(crop, dict) else crop
        short = cfg.get("size", {})
        short = short.get("shortest_edge", resize) if isinstance(short, dict) else short
        if crop == image_size:
            resize = int(short)
    return PreprocessSpec(resize, image_size, mean, std)  # type: ignore[arg-type]


def load_dinov2(weights: str | None, size: str, image_size: int, pooling: str) -> Encoder:
    """A Dinov2Model from a save_pretrained folder, or randomly initialised with a released config."""
    from transformers import Dinov2Config, Dinov2Model

    if weights is not None:
        if not (Path(weights) / "config.json").is_file():
            raise SystemExit(f"--weights {weights}: expected a save_pretrained folder with config.json")
        model = Dinov2Model.from_pretrained(weights, local_files_only=True)
        source = weights
    else:
        config = Dinov2Config(image_size=518, patch_size=14, layerscale_value=1.0, **DINOV2_SIZES[size])
        model = Dinov2Model(config)
        source = f"random init, {size} config"
    patch = model.config.patch_size
    if image_size % patch:
        raise SystemExit(f"--image-size {image_size} is not a multiple of the patch size {patch}")
    return Encoder(
        module=Dinov2Embedding(model.eval(), pooling).eval(),
        image_size=image_size,
        preprocess=dinov2_preprocess(weights, image_size),
        description=f"transformers Dinov2Model ({source}), pooling={pooling}",
    )


# --------------------------------------------------------------------------------------------------
# Export and verification
# --------------------------------------------------------------------------------------------------


def pick_opset(requested: int | None) -> int:
    """Opset 17 (native LayerNormalization) where this torch can export it, else 14."""
    from torch.onnx import _constants

    highest = int(getattr(_constants, "ONNX_MAX_OPSET", getattr(_constants, "onnx_main_opset", 14)))
    if requested is not None:
        if requested > highest:
            raise SystemExit(f"--opset {requested}: this torch ({torch.__version__}) exports up to {highest}")
        return requested
    return 17 if highest >= 17 else 14


def export(encoder: Encoder, out: Path, opset: int, trace_batch: int) -> int:
    """Traces the module on a random batch and writes the ONNX file with a dynamic batch axis;
    returns the embedding dimension D."""
    dummy = torch.randn(trace_batch, 3, encoder.image_size, encoder.image_size)
    out.parent.mkdir(parents=True, exist_ok=True)
    with torch.no_grad(), warnings.catch_warnings():
        # The tracer warns wherever the models turn the input's spatial size into Python numbers
        # (DINOv2's position-embedding interpolation): S is meant to be fixed, only N is dynamic,
        # and verify() runs another batch size to show that. torch 1.13 also warns about missing
        # shape inference for constants, which is harmless here.
        warnings.filterwarnings("ignore", category=torch.jit.TracerWarning)
        warnings.filterwarnings("ignore", message="The shape inference of prim::Constant")
        dim = int(encoder.module(dummy).shape[1])
        torch.onnx.export(
            encoder.module,
            (dummy,),
            str(out),
            input_names=[INPUT_NAME],
            output_names=[OUTPUT_NAME],
            dynamic_axes={INPUT_NAME: {0: "batch"}, OUTPUT_NAME: {0: "batch"}},
            opset_version=opset,
            do_constant_folding=True,
        )
    return dim


def annotate(out: Path, encoder: Encoder, dim: int) -> None:
    """Fixes the output's declared shape to [batch, dim] (the exporter leaves D symbolic after the
    mean), stores the description and preprocessing in metadata_props, and checks the file."""
    import onnx

    model = onnx.load(str(out))
    (output,) = model.graph.output
    batch_dim, feature_dim = output.type.tensor_type.shape.dim
    batch_dim.dim_param = "batch"
    feature_dim.Clear()
    feature_dim.dim_value = dim
    onnx.checker.check_model(model, full_check=True)
    entries = {
        "pure.encoder": encoder.description,
        "pure.preprocess": json.dumps(asdict(encoder.preprocess)),
    }
    for key, value in entries.items():
        prop = model.metadata_props.add()
        prop.key, prop.value = key, value
    onnx.save(model, str(out))


def verify(encoder: Encoder, out: Path, batch: int, seed: int) -> tuple[float, float, list[int]]:
    """Runs torch and onnxruntime (CPU) on the same random batch; returns (max abs diff, max |torch|,
    output shape)."""
    import onnxruntime as ort

    rng = np.random.default_rng(seed)
    x = rng.standard_normal((batch, 3, encoder.image_size, encoder.image_size)).astype(np.float32)
    with torch.no_grad():
        expected = encoder.module(torch.from_numpy(x)).numpy()
    session = ort.InferenceSession(str(out), providers=["CPUExecutionProvider"])
    inputs = [i.name for i in session.get_inputs()]
    outputs = [o.name for o in session.get_outputs()]
    if inputs != [INPUT_NAME] or outputs != [OUTPUT_NAME]:
        raise SystemExit(f"unexpected graph signature: inputs {inputs}, outputs {outputs}")
    (actual,) = session.run([OUTPUT_NAME], {INPUT_NAME: x})
    if actual.shape != expected.shape:
        raise SystemExit(f"onnxruntime gave shape {actual.shape}, torch {expected.shape}")
    return float(np.abs(actual - expected).max()), float(np.abs(expected).max()), list(actual.shape)


def write_preprocess(out: Path, spec: PreprocessSpec) -> Path:
    """`<out>.json` next to the model: the spec `--evaluator-preprocess` takes."""
    path = out.with_name(out.name + ".json")
    path.write_text(json.dumps(asdict(spec)) + "\n")
    return path


# --------------------------------------------------------------------------------------------------
# CLI
# --------------------------------------------------------------------------------------------------


class _HelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """Shows a default only where there is one worth showing."""

    def _get_help_string(self, action: argparse.Action) -> str:
        if action.default in (None, False, argparse.SUPPRESS):
            return action.help or ""
        return super()._get_help_string(action)


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="export_encoder.py",
        description=(
            "Export a CLIP (open_clip) or DINOv2 (transformers) vision tower to ONNX for "
            "`pure run --evaluator`. The graph takes `input` [N,3,S,S] (normalised) and returns "
            "`embedding` [N,D]; `<out>.json` holds the preprocessing for --evaluator-preprocess. "
            "Nothing is downloaded: give local --weights, or --random-init to test the code path."
        ),
        epilog=(
            "pooling: mean = mean over all tokens (CLS included) of the last hidden state (CLIP: "
            "transformer output before ln_post/proj, = HF CLIPVisionModel.last_hidden_state; DINOv2: "
            "Dinov2Model.last_hidden_state, after its final layer norm); cls = pooler output; "
            "proj = CLIP's projected image embedding (encode_image)."
        ),
        formatter_class=_HelpFormatter,
    )
    parser.add_argument("--family", choices=("clip", "dinov2"), required=True, help="encoder family")
    parser.add_argument(
        "--out", type=Path, required=True, help="ONNX file to write (and <out>.json beside it)"
    )
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument(
        "--weights",
        help="clip: an open_clip checkpoint file (what pretrained= takes, e.g. open_clip_pytorch_model.bin); "
        "dinov2: a folder written by Dinov2Model.save_pretrained (config.json + weights)",
    )
    source.add_argument("--random-init", action="store_true", help="random weights, to test the code path")
    parser.add_argument("--arch", default="ViT-B-32", help="clip: open_clip model name")
    parser.add_argument(
        "--dinov2-size",
        choices=tuple(DINOV2_SIZES),
        default="small",
        help="dinov2 --random-init: which config",
    )
    parser.add_argument(
        "--image-size",
        type=int,
        default=224,
        help="dinov2: input side S (multiple of 14); clip: fixed by --arch",
    )
    parser.add_argument(
        "--pooling", choices=("mean", "cls", "proj"), default="mean", help="which vector (see below)"
    )
    parser.add_argument(
        "--opset", type=int, default=None, help="ONNX opset (default: 17 if torch supports it, else 14)"
    )
    parser.add_argument(
        "--verify-batch", type=int, default=3, help="batch size of the torch-vs-onnxruntime check"
    )
    parser.add_argument("--no-verify", action="store_true", help="skip the onnxruntime comparison")
    parser.add_argument("--tolerance", type=float, default=1e-3, help="fail if max abs diff exceeds this")
    parser.add_argument("--seed", type=int, default=0, help="seed for random init and the check's input")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    torch.manual_seed(args.seed)
    started = time.perf_counter()
    loaders: dict[str, Callable[[], Encoder]] = {
        "clip": lambda: load_clip(args.arch, args.weights, args.pooling),
        "dinov2": lambda: load_dinov2(args.weights, args.dinov2_size, args.image_size, args.pooling),
    }
    encoder = loaders[args.family]()
    opset = pick_opset(args.opset)
    log(f"{encoder.description}; input [N,3,{encoder.image_size},{encoder.image_size}]; opset {opset}")

    # Trace with a batch other than the check's, so the check shows the batch axis is really dynamic.
    dim = export(encoder, args.out, opset, trace_batch=2 if args.verify_batch != 2 else 1)
    annotate(args.out, encoder, dim)
    spec_path = write_preprocess(args.out, encoder.preprocess)
    exported = time.perf_counter() - started
    size_mb = args.out.stat().st_size / 2**20
    log(f"wrote {args.out} ({size_mb:.1f} MiB) and {spec_path} in {exported:.1f}s")

    summary = {
        "onnx": str(args.out),
        "preprocess": str(spec_path),
        "mib": round(size_mb, 1),
        "seconds": round(exported, 1),
    }
    if not args.no_verify:
        diff, scale, shape = verify(encoder, args.out, args.verify_batch, args.seed)
        log(
            f"onnxruntime vs torch on a random {shape[0]}-batch: output {shape}, "
            f"max abs diff {diff:.3g} (max |torch| {scale:.3g})"
        )
        summary.update(shape=shape, max_abs_diff=diff)
        if not diff <= args.tolerance:
            log(f"max abs diff {diff:.3g} exceeds --tolerance {args.tolerance}")
            print(json.dumps(summary))
            return 1
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())
