/**
 * Where a token lies in the image (docs/attribution.md, "Token neurons"). A ViT on a square input of
 * `side` pixels cut into a g x g grid of patches has T = extra + g^2 tokens: `extra` leading tokens
 * that belong to no patch (the class token; DINOv2's and timm's register tokens come right after it),
 * then the patches row by row, as torchvision, timm and DINOv2 order them (feature-layout.ts,
 * leadingTokens). A patch token maps to its patch's pixel box; a leading token to the whole image.
 */
import { leadingTokens } from '../onnx/feature-layout.js';
import type { PixelBox } from './embedding-crop.js';

export function tokenPatchBox(token: number, tokens: number, side: number): PixelBox {
  if (!Number.isInteger(token) || token < 0 || token >= tokens) {
    throw new Error(`token ${token} is outside a sequence of ${tokens} tokens`);
  }
  const extra = leadingTokens(tokens);
  const grid = Math.floor(Math.sqrt(tokens));
  if (token < extra) return { x0: 0, y0: 0, x1: side, y1: side };
  const patch = token - extra;
  const row = Math.floor(patch / grid);
  const col = patch % grid;
  // Patch edges rounded to pixels: exact when the grid divides the side (a ViT's patch size does).
  const edge = (i: number) => Math.round((i * side) / grid);
  return { x0: edge(col), y0: edge(row), x1: edge(col + 1), y1: edge(row + 1) };
}
