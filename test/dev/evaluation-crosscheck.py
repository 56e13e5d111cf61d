#!/usr/bin/python3
"""Dev-only reference for test/dev/evaluation-crosscheck.ts: step 5 statistics written independently.

Usage: /usr/bin/python3 evaluation-crosscheck.py IN.json OUT.json
(Debian's python3 with python3-scipy: apt-get install -y python3-scipy)

IN: {"permutations": P, "neurons": [{"rows", "cols", "values", "classes": [str|null],
     "clusterings": [{"method", "k", "labels"}]}]}
OUT: per neuron and clustering: inner, inter, overall (scipy pdist, pooled over pairs as the authors'
eval_CLIP_alignment.py), sizes (descending), purity over labelled references, per cluster (sorted by
label) size, inner (None for singletons), majority class (alphabetically first on ties) and its share,
and a permutation p-value from P permutations of numpy's own generator (statistical, not bit-equal).
"""
import json
import sys
from collections import Counter

import numpy as np
import scipy
from scipy.spatial.distance import pdist, squareform


def pooled(condensed, labels):
    n = len(labels)
    i, j = np.triu_indices(n, k=1)
    same = labels[i] == labels[j]
    overall = condensed.mean()
    inner = condensed[same].mean() if same.any() else condensed[~same].mean()
    inter = condensed[~same].mean() if (~same).any() else inner
    return float(inner), float(inter), float(overall)


def purity(labels, classes):
    labelled = [(c, k) for c, k in zip(labels.tolist(), classes) if k is not None]
    if not labelled:
        return None
    by_cluster = {}
    for cluster, name in labelled:
        by_cluster.setdefault(cluster, Counter())[name] += 1
    return sum(max(counter.values()) for counter in by_cluster.values()) / len(labelled)


def clusters(square, labels, classes):
    rows = []
    for cluster in sorted(set(labels.tolist())):
        members = np.flatnonzero(labels == cluster)
        size = len(members)
        block = square[np.ix_(members, members)]
        inner = float(block[np.triu_indices(size, k=1)].mean()) if size > 1 else None
        names = Counter(classes[m] for m in members if classes[m] is not None)
        if names:
            top = max(names.values())
            majority = min(name for name, count in names.items() if count == top)
            share = top / sum(names.values())
        else:
            majority, share = None, None
        rows.append({"cluster": int(cluster), "size": size, "inner": inner, "majority": majority,
                     "purity": share})
    return rows


def permutation_p(square, labels, permutations, rng):
    """(1 + #{permuted inner <= observed}) / (1 + P), inner sums as 1/2 tr(O^T D O) for one-hot O."""
    values, dense = np.unique(labels, return_inverse=True)
    k = len(values)
    sizes = np.bincount(dense, minlength=k)
    pairs = float((sizes * (sizes - 1) / 2).sum())
    if pairs == 0:
        return 1.0

    def inner_sums(assignments):
        onehot = np.eye(k)[assignments]  # B x n x k
        return 0.5 * (onehot * np.matmul(square, onehot)).sum(axis=(1, 2))

    observed = inner_sums(dense[None, :])[0] / pairs
    draws = np.stack([rng.permutation(dense) for _ in range(permutations)])
    permuted = np.concatenate([inner_sums(draws[s:s + 500]) for s in range(0, permutations, 500)]) / pairs
    return float((1 + np.sum(permuted <= observed * (1 + 1e-12))) / (1 + permutations))


def main(source, target):
    with open(source) as handle:
        request = json.load(handle)
    rng = np.random.default_rng(2024)
    neurons = []
    for neuron in request["neurons"]:
        x = np.asarray(neuron["values"], dtype=np.float64).reshape(neuron["rows"], neuron["cols"])
        condensed = pdist(x, metric="euclidean")
        square = squareform(condensed)
        classes = neuron["classes"]
        results = []
        for clustering in neuron["clusterings"]:
            labels = np.asarray(clustering["labels"])
            inner, inter, overall = pooled(condensed, labels)
            results.append({
                "method": clustering["method"], "k": clustering["k"],
                "inner": inner, "inter": inter, "overall": overall,
                "sizes": sorted(Counter(labels.tolist()).values(), reverse=True),
                "purity": purity(labels, classes),
                "clusters": clusters(square, labels, classes),
                "pValue": permutation_p(square, labels, request["permutations"], rng),
            })
        neurons.append(results)
    with open(target, "w") as handle:
        json.dump({"numpy": np.__version__, "scipy": scipy.__version__, "neurons": neurons}, handle)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
