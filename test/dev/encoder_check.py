#!/usr/bin/env python3
"""Dev-only checks of tools/export_encoder.py, run by test/dev/export-encoder-check.sh.

Subcommands:

* ``reference MODEL IN.bin OUT.bin`` -- writes a seeded random float32 batch [2, 3, S, S] to IN.bin and
  onnxruntime-for-Python's output for it to OUT.bin, for test/dev/run-encoder.mjs to compare against.
* ``weights --family clip|dinov2 --dir DIR`` -- the path users with weights take: saves a randomly
  initialised model the way the real weights come (an open_clip checkpoint file; a save_pretrained
  folder with preprocessor_config.json), exports it with ``--weights``, and compares onnxruntime's
  ``embedding`` with the mean of the last hidden state computed here independently from the
  in-memory model (for CLIP by re-running the tower step by step), so a wrong tensor or unloaded
  weights would show as a large difference.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "tools"))
import export_encoder  # noqa: E402

SEED = 7


def reference(model: Path, input_path: Path, output_path: Path, batch: int = 2) -> None:
    """Seeded random input and onnxruntime (Python) output, both raw float32 little-endian."""
    import onnxruntime as ort

    session = ort.InferenceSession(str(model), providers=["CPUExecutionProvider"])
    side = int(session.get_inputs()[0].shape[3])
    x = np.random.default_rng(SEED).uniform(-1, 1, (batch, 3, side, side)).astype("<f4")
    (y,) = session.run(["embedding"], {"input": x})
    x.tofile(input_path)
    y.astype("<f4").tofile(output_path)
    print(
        json.dumps(
            {
                "dims": list(y.shape),
                "sum": float(y.sum(dtype=np.float64)),
                "absSum": float(np.abs(y).sum(dtype=np.float64)),
            }
        )
    )


def clip_last_hidden_mean(visual: torch.nn.Module, x: torch.Tensor) -> torch.Tensor:
    """open_clip ViT tower up to the transformer output, step by step, then the mean over tokens."""
    t = visual.conv1(x).flatten(2).permute(0, 2, 1)
    cls = visual.class_embedding.view(1, 1, -1).expand(t.shape[0], -1, -1)
    t = torch.cat([cls, t], dim=1) + visual.positional_embedding
    t = visual.ln_pre(t)
    batch_first = bool(getattr(visual.transformer, "batch_first", False))
    for block in visual.transformer.resblocks:
        t = block(t) if batch_first else block(t.permute(1, 0, 2)).permute(1, 0, 2)
    return t.mean(dim=1)


def weights(family: str, directory: Path) -> None:
    """Save random weights as users would have them, export with --weights, compare to torch."""
    import onnxruntime as ort

    directory.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(SEED)
    out = directory / f"{family}-weights.onnx"
    if family == "clip":
        import open_clip

        model = open_clip.create_model("ViT-B-32").eval()
        checkpoint = directory / "open_clip_pytorch_model.bin"
        torch.save(model.state_dict(), checkpoint)
        args = ["--family", "clip", "--arch", "ViT-B-32", "--weights", str(checkpoint)]
        side = 224

        def expected_fn(x: torch.Tensor) -> torch.Tensor:
            return clip_last_hidden_mean(model.visual, x)

    else:
        from transformers import BitImageProcessor, Dinov2Config, Dinov2Model

        config = Dinov2Config(image_size=518, patch_size=14, **export_encoder.DINOV2_SIZES["small"])
        model = Dinov2Model(config).eval()
        folder = directory / "dinov2-small"
        model.save_pretrained(folder)
        # What facebook/dinov2-* ship: resize short side 256 (bicubic), centre crop 224, ImageNet stats.
        BitImageProcessor(
            size={"shortest_edge": 256},
            crop_size={"height": 224, "width": 224},
            resample=3,
            image_mean=list(export_encoder.IMAGENET_MEAN),
            image_std=list(export_encoder.IMAGENET_STD),
        ).save_pretrained(folder)
        args = ["--family", "dinov2", "--weights", str(folder)]
        side = 224

        def expected_fn(x: torch.Tensor) -> torch.Tensor:
            return model(pixel_values=x).last_hidden_state.mean(dim=1)

    # Export with a different global seed, so unloaded weights could not match by accident.
    if export_encoder.main([*args, "--out", str(out), "--seed", "1"]) != 0:
        raise SystemExit("export failed")
    x = np.random.default_rng(SEED).uniform(-1, 1, (2, 3, side, side)).astype(np.float32)
    with torch.no_grad():
        expected = expected_fn(torch.from_numpy(x)).numpy()
    session = ort.InferenceSession(str(out), providers=["CPUExecutionProvider"])
    (actual,) = session.run(["embedding"], {"input": x})
    diff = float(np.abs(actual - expected).max())
    spec = json.loads(out.with_name(out.name + ".json").read_text())
    print(json.dumps({"family": family, "weights_export_vs_independent_torch": diff, "preprocess": spec}))
    if not diff < 1e-3:
        raise SystemExit(f"{family}: exported embedding differs from the independent computation by {diff}")


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = parser.add_subparsers(dest="command", required=True)
    ref = sub.add_parser("reference", help="input + onnxruntime (Python) output as .bin files")
    ref.add_argument("model", type=Path)
    ref.add_argument("input_bin", type=Path)
    ref.add_argument("output_bin", type=Path)
    wts = sub.add_parser("weights", help="export from saved weights and compare with torch")
    wts.add_argument("--family", choices=("clip", "dinov2"), required=True)
    wts.add_argument("--dir", type=Path, required=True)
    args = parser.parse_args(argv)
    if args.command == "reference":
        reference(args.model, args.input_bin, args.output_bin)
    else:
        weights(args.family, args.dir)


if __name__ == "__main__":
    main()
