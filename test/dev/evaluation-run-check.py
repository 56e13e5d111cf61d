"""Dev-only: recompute a finished run's evaluation from its own Parquet files with numpy, independently of
pure's code, and compare with its `evaluation` table (docs/results.md).

For the first N neurons of each explained layer: the embeddings (table `embeddings`) in rank order, the
labels of `pure` and `activation` at every cluster count (table `clusters`), the mean Euclidean distance
over pairs in the same cluster (inner) and in different clusters (inter), pooled over pairs as the
authors' eval_CLIP_alignment.py. Stored values are float32, so they must agree to ~1e-6 relative.

    .tools/venv/bin/python test/dev/evaluation-run-check.py out/<run> [N]
"""

import sys

import numpy as np
import pandas as pd


def inner_inter(embeddings: np.ndarray, labels: np.ndarray) -> tuple[float, float]:
    diff = embeddings[:, None, :] - embeddings[None, :, :]
    distances = np.sqrt((diff**2).sum(-1))
    upper = np.triu_indices(len(labels), 1)
    same = labels[upper[0]] == labels[upper[1]]
    pairs = distances[upper]
    return float(pairs[same].mean()), float(pairs[~same].mean())


def main(run: str, per_layer: int) -> int:
    embeddings = pd.read_parquet(f"{run}/embeddings", partitioning=None)
    clusters = pd.read_parquet(f"{run}/clusters", partitioning=None)
    evaluation = pd.read_parquet(f"{run}/evaluation", partitioning=None)
    worst, compared = 0.0, 0
    for layer, rows in embeddings.groupby("layer"):
        for neuron in sorted(rows.neuron.unique())[:per_layer]:
            mine = rows[rows.neuron == neuron].sort_values("rank")
            vectors = np.stack(mine.embedding.to_numpy()).astype(np.float64)
            of_neuron = clusters[(clusters.layer == layer) & (clusters.neuron == neuron)]
            for (method, k), labelled in of_neuron.groupby(["method", "n_clusters"]):
                labels = labelled.set_index("rank").loc[mine["rank"], "cluster"].to_numpy()
                inner, inter = inner_inter(vectors, labels)
                stored = evaluation[
                    (evaluation.layer == layer)
                    & (evaluation.neuron == neuron)
                    & (evaluation.method == method)
                    & (evaluation.n_clusters == k)
                ].iloc[0]
                for ours, theirs in ((inner, float(stored["inner"])), (inter, float(stored["inter"]))):
                    worst = max(worst, abs(ours - theirs) / abs(ours))
                    compared += 1
    print(f"{compared} inner/inter values of {per_layer} neurons per layer: worst relative difference {worst:.2e}")
    return 0 if worst < 1e-5 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 5))
