#!/usr/bin/python3
"""Dev-only reference run for test/dev/kmeans-crosscheck.ts: scikit-learn's KMeans, silhouette and ARI.

Usage: /usr/bin/python3 sklearn-kmeans-check.py IN.json OUT.json
(Debian's python3 with python3-sklearn: apt-get install -y python3-sklearn)

IN: {"seeds": S, "singleRuns": R, "datasets": [{"name", "rows", "cols", "values", "runs": [{"k", "labels"}]}],
     "labelPairs": [{"a", "b"}]}
OUT: per dataset and k: scikit-learn's inertia, n_iter, labels and silhouette for random_state=0, its
inertia for random_state 0..S-1 and with n_init=1 for random_state 0..R-1, the silhouette of our labels (from exact pairwise distances, as
scikit-learn's default |x|^2 - 2 x.y + |y|^2 expansion puts identical points ~1e-8 apart), the inertia
of our labels (sum of squared distances to their means) and the ARI of the two labelings; per label
pair scikit-learn's adjusted_rand_score.
"""
import json
import sys

import numpy as np
import sklearn
from sklearn.cluster import KMeans
from sklearn.metrics import adjusted_rand_score, silhouette_score


def partition_inertia(x, labels):
    total = 0.0
    for label in np.unique(labels):
        members = x[labels == label]
        total += float(((members - members.mean(axis=0)) ** 2).sum())
    return total


def exact_distances(x):
    return np.sqrt(((x[:, None, :] - x[None, :, :]) ** 2).sum(axis=-1))


def main(source, target):
    with open(source) as handle:
        request = json.load(handle)
    datasets = []
    for dataset in request["datasets"]:
        x = np.asarray(dataset["values"], dtype=np.float64).reshape(dataset["rows"], dataset["cols"])
        distances = exact_distances(x)
        runs = []
        for run in dataset["runs"]:
            ours = np.asarray(run["labels"])
            # The authors' call (PURE eval_CLIP_alignment.py).
            fitted = KMeans(n_clusters=run["k"], n_init=10, random_state=0).fit(x)
            theirs = fitted.labels_
            runs.append({
                "k": run["k"],
                "inertia": float(fitted.inertia_),
                "iterations": int(fitted.n_iter_),
                "labels": theirs.tolist(),
                "silhouette": float(silhouette_score(x, theirs)) if len(set(theirs)) > 1 else None,
                "silhouetteOfOurs": (
                    float(silhouette_score(distances, ours, metric="precomputed")) if len(set(ours)) > 1 else None
                ),
                "inertiaBySeed": [
                    float(KMeans(n_clusters=run["k"], n_init=10, random_state=seed).fit(x).inertia_)
                    for seed in range(request["seeds"])
                ],
                "singleRunInertia": [
                    float(KMeans(n_clusters=run["k"], n_init=1, random_state=seed).fit(x).inertia_)
                    for seed in range(request["singleRuns"])
                ],
                "inertiaOfOurs": partition_inertia(x, ours),
                "ari": float(adjusted_rand_score(ours, theirs)),
            })
        datasets.append({"name": dataset["name"], "runs": runs})
    pairs = [float(adjusted_rand_score(p["a"], p["b"])) for p in request["labelPairs"]]
    with open(target, "w") as handle:
        json.dump({"sklearn": sklearn.__version__, "numpy": np.__version__, "datasets": datasets,
                   "labelPairs": pairs}, handle)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
