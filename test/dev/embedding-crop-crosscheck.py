#!/usr/bin/python3
"""Dev-only reference for test/dev/embedding-crop-crosscheck.ts: the crop box the PURE authors embed.

Usage: /usr/bin/python3 embedding-crop-crosscheck.py IN.json OUT.json
(Debian's python3 with python3-torch and python3-torchvision: apt-get install -y python3-torchvision)

Recomputes, with torchvision's own gaussian_blur and torch tensors (nothing of ours), the box of the
authors' utils/render.py crop_and_mask_images(rf=True) and zennit-crp's get_crop_range, as quoted in
core/compute/visualisation/embedding-crop.ts: blur, abs / max, threshold, first/last hot row and column,
the squaring, the Python slice, and the fallback to the whole image when the crop is black or holds no
visible heat. Once with float64 tensors (what ours computes in) and once with float32 (the authors' dtype).

IN: {"cases": [{"height", "width", "heat": [h*w], "pixels": [h*w] | null, "kernelSize", "cropThreshold",
     "visibleThreshold"}]}   pixels: the image's value per pixel, broadcast to 3 channels (null: all 0.5)
OUT: {"torch", "torchvision", "float64": [result], "float32": [result]}, a result per case:
     {"x0", "y0", "x1", "y1", "cropped", "heatMax", "heatInside"} with the box half-open, as ours.
"""
import json
import sys

import torch
import torchvision
from torchvision.transforms.functional import gaussian_blur


def get_crop_range(heatmap, crop_th):
    # zennit-crp crp/image.py, as quoted in the brief.
    crop_mask = heatmap > crop_th
    rows, columns = torch.where(crop_mask)
    if len(rows) == 0 or len(columns) == 0:
        return 0, -1, 0, -1
    row1, row2 = rows.min(), rows.max()
    col1, col2 = columns.min(), columns.max()
    if (row1 >= row2) and (col1 >= col2):
        return 0, -1, 0, -1
    return row1, row2, col1, col2


def authors_crop(img, heat, kernel_size, crop_th, vis_th):
    """crop_and_mask_images(rf=True) for one image, returning the box instead of the picture."""
    filtered_heat = gaussian_blur(heat.unsqueeze(0), kernel_size=kernel_size)[0]
    absolute = filtered_heat.abs()
    filtered_heat = filtered_heat.abs() / (filtered_heat.abs().max())
    vis_mask = filtered_heat > vis_th
    row1, row2, col1, col2 = get_crop_range(filtered_heat, crop_th)
    dr = row2 - row1
    dc = col2 - col1
    if dr > dc:
        col1 -= (dr - dc) // 2
        col2 += (dr - dc) // 2
        if col1 < 0:
            col2 -= col1
            col1 = 0
    elif dc > dr:
        row1 -= (dc - dr) // 2
        row2 += (dc - dr) // 2
        if row1 < 0:
            row2 -= row1
            row1 = 0
    img_t = img[..., row1:row2, col1:col2]
    vis_mask_t = vis_mask[row1:row2, col1:col2]
    height, width = heat.shape
    result = {"heatMax": float(absolute.max()), "cropped": False, "x0": 0, "y0": 0, "x1": width, "y1": height,
              "heatInside": 1.0}
    if img_t.sum() != 0 and vis_mask_t.sum() != 0:
        y0, y1, _ = slice(int(row1), int(row2)).indices(height)
        x0, x1, _ = slice(int(col1), int(col2)).indices(width)
        assert tuple(img_t.shape) == (3, y1 - y0, x1 - x0), (img_t.shape, y0, y1, x0, x1)
        inside = absolute[row1:row2, col1:col2].sum() / absolute.sum()
        result.update(cropped=True, x0=x0, y0=y0, x1=x1, y1=y1, heatInside=float(inside))
    return result


def main(source, target):
    with open(source) as handle:
        request = json.load(handle)
    reply = {"torch": torch.__version__, "torchvision": torchvision.__version__, "float64": [], "float32": []}
    for case in request["cases"]:
        h, w = case["height"], case["width"]
        for dtype, key in ((torch.float64, "float64"), (torch.float32, "float32")):
            heat = torch.tensor(case["heat"], dtype=torch.float64).reshape(h, w).to(dtype)
            pixels = case["pixels"]
            plane = torch.full((h, w), 0.5) if pixels is None else torch.tensor(pixels).reshape(h, w)
            img = plane.to(dtype).unsqueeze(0).expand(3, h, w)
            reply[key].append(authors_crop(img, heat, case["kernelSize"], case["cropThreshold"],
                                           case["visibleThreshold"]))
    with open(target, "w") as handle:
        json.dump(reply, handle)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
