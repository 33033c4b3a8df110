"""Pruned and clustered MLPs (issue #5).

mlp_pruned: the trained float MLP (models/mlp/work/mlp.pt from train_float.py mlp) is
  fine-tuned with magnitude pruning as the TF-MOT pruning tutorial does it: every weight
  matrix (biases are not pruned) gets a mask; the target sparsity follows a polynomial
  decay schedule
      s(t) = s_f + (s_i - s_f) * (1 - p)^3,  p = clamp((t - t0) / (t1 - t0), 0, 1)
  from s_i = 50% at step t0 = 0 to s_f = 90% at step t1 = END_STEP (about
  PRUNE_SCHEDULE_EPOCHS epochs),
  masks recomputed every FREQUENCY steps (the smallest |w| of each layer are zeroed,
  per layer), applied after every optimiser step; then PRUNE_EPOCHS - schedule epochs at
  90%. Pruned weights are exact +0.0 in the exported ONNX.

mlp_clustered: mlp_pruned clustered per layer, sparsity-preserving (as TF-MOT's
  preserve_sparsity option): each weight matrix takes 16 distinct values, one of which is
  the exact 0 of the pruned weights; the non-zero weights are grouped by 1-D k-means into
  15 centroids (k-means++ initialisation, fixed seed). The centroids are then fine-tuned
  (cluster assignment fixed, gradient of a centroid = sum over its weights) for
  CLUSTER_EPOCHS; biases stay float and unclustered.

Usage: /usr/bin/python3 models/scripts/prune_cluster.py
"""
import math
import os

import numpy as np
import onnx
import onnx.numpy_helper
import torch
from sklearn.cluster import KMeans
from torch import nn

import common as c
import nets
import train_float

SEED = 11
INITIAL_SPARSITY = 0.50
FINAL_SPARSITY = 0.90
POWER = 3
FREQUENCY = 100
PRUNE_EPOCHS = 4
PRUNE_SCHEDULE_EPOCHS = 3
CLUSTERS = 16
CLUSTER_EPOCHS = 2
BATCH = 128
STEPS_PER_EPOCH = math.ceil(60000 / BATCH)
LAYERS = ["fc1", "fc2", "fc3"]


# the schedule ends on a mask update (a multiple of FREQUENCY), so 90% is reached exactly
END_STEP = (PRUNE_SCHEDULE_EPOCHS * STEPS_PER_EPOCH) // FREQUENCY * FREQUENCY


def target_sparsity(step, begin=0, end=END_STEP):
    p = min(1.0, max(0.0, (step - begin) / (end - begin)))
    return FINAL_SPARSITY + (INITIAL_SPARSITY - FINAL_SPARSITY) * (1.0 - p) ** POWER


class Pruner:
    """Magnitude-pruning masks for the weight matrices of LAYERS."""

    def __init__(self, model):
        self.weights = [getattr(model, n).weight for n in LAYERS]
        self.masks = [torch.ones_like(w, dtype=torch.bool) for w in self.weights]
        self.sparsity = None

    def update_masks(self, sparsity):
        self.sparsity = sparsity
        for i, w in enumerate(self.weights):
            k = int(round(sparsity * w.numel()))        # number of weights to zero
            order = torch.argsort(w.detach().abs().reshape(-1), stable=True)
            mask = torch.ones(w.numel(), dtype=torch.bool)
            mask[order[:k]] = False
            self.masks[i] = mask.reshape(w.shape)
        self.apply()

    @torch.no_grad()
    def apply(self):
        for w, m in zip(self.weights, self.masks):
            w.masked_fill_(~m, 0.0)    # +0.0, never -0.0

    def hook(self, step):
        if step % FREQUENCY == 0 and step <= END_STEP:
            self.update_masks(target_sparsity(step))
        else:
            self.apply()


class ClusteredLinear(nn.Module):
    """Linear layer whose weight is codebook[index]; codebook[0] is the fixed exact zero."""

    def __init__(self, lin, clusters, seed):
        super().__init__()
        w = lin.weight.detach().numpy().astype(np.float64)
        nz = w != 0
        km = KMeans(n_clusters=clusters - 1, init="k-means++", n_init=4, random_state=seed)
        labels = km.fit_predict(w[nz].reshape(-1, 1))
        order = np.argsort(km.cluster_centers_[:, 0])           # sorted codebook
        rank = np.empty_like(order)
        rank[order] = np.arange(len(order))
        index = np.zeros(w.shape, dtype=np.int64)
        index[nz] = rank[labels] + 1
        self.register_buffer("index", torch.from_numpy(index))
        self.centroids = nn.Parameter(torch.tensor(km.cluster_centers_[order, 0], dtype=torch.float32))
        self.bias = nn.Parameter(lin.bias.detach().clone())

    def weight(self):
        return torch.cat([torch.zeros(1), self.centroids])[self.index]

    def forward(self, x):
        return nn.functional.linear(x, self.weight(), self.bias)


class ClusteredMLP(nn.Module):
    def __init__(self, mlp, seed):
        super().__init__()
        for i, n in enumerate(LAYERS):
            setattr(self, n, ClusteredLinear(getattr(mlp, n), CLUSTERS, seed + i))

    def forward(self, x):
        x = torch.flatten(x, 1)
        x = torch.relu(self.fc1(x))
        x = torch.relu(self.fc2(x))
        return self.fc3(x)

    def to_mlp(self):
        mlp = nets.MLP()
        with torch.no_grad():
            for n in LAYERS:
                getattr(mlp, n).weight.copy_(getattr(self, n).weight())
                getattr(mlp, n).bias.copy_(getattr(self, n).bias)
        return mlp.eval()


def layer_stats(onnx_path):
    """Sparsity and number of distinct values of each weight matrix, read from the ONNX file."""
    m = onnx.load(onnx_path)
    stats = {}
    for t in m.graph.initializer:
        a = onnx.numpy_helper.to_array(t)
        if a.ndim != 2:
            continue
        stats[t.name] = {"shape": list(a.shape), "zeros": int((a == 0).sum()),
                         "negative_zeros": int(((a == 0) & np.signbit(a)).sum()),
                         "sparsity": float((a == 0).mean()),
                         "distinct_values": int(len(np.unique(a)))}
    return stats


def export(model, name, extra):
    d = os.path.join(c.MODELS_DIR, name)
    os.makedirs(d, exist_ok=True)
    x, _ = c.load_test()
    path = os.path.join(d, f"{name}.onnx")
    c.export_onnx(model, path, torch.from_numpy(x[:1]))
    stats = layer_stats(path)
    for k, v in stats.items():
        print(f"  {name} {k}: {v}")
    return c.finish_model(name, c.predict(model, x), {**extra, "weights": stats})


def main():
    c.main_guard()
    c.setup(SEED)
    x_test, y_test = c.load_test()
    base = train_float.build("mlp")
    base_acc = c.accuracy(c.predict(base, x_test), y_test)

    # ---- pruning during training
    model = train_float.build("mlp")
    pruner = Pruner(model)
    pruner.update_masks(target_sparsity(0))
    print(f"== mlp_pruned: {PRUNE_EPOCHS} epochs, sparsity {INITIAL_SPARSITY} -> "
          f"{FINAL_SPARSITY} (polynomial decay, power {POWER}, every {FREQUENCY} steps)", flush=True)
    c.train(model, PRUNE_EPOCHS, 1e-3, batch=BATCH, seed=SEED, step_hook=pruner.hook)
    pruner.apply()
    assert abs(pruner.sparsity - FINAL_SPARSITY) < 1e-9
    pruned_meta = export(model, "mlp_pruned", {
        "base_model": "mlp", "accuracy_base_mlp": base_acc,
        "pruning": {"schedule": "polynomial_decay", "initial_sparsity": INITIAL_SPARSITY,
                    "final_sparsity": FINAL_SPARSITY, "power": POWER, "frequency": FREQUENCY,
                    "begin_step": 0, "end_step": END_STEP, "steps_per_epoch": STEPS_PER_EPOCH,
                    "epochs": PRUNE_EPOCHS, "scope": "per layer, weight matrices only",
                    "seed": SEED}})

    # ---- sparsity-preserving clustering + centroid fine-tuning
    c.setup(SEED + 1)
    cmodel = ClusteredMLP(model, SEED)
    acc_before = c.accuracy(c.predict(cmodel, x_test), y_test)
    print(f"== mlp_clustered: {CLUSTERS} values per layer (0 + {CLUSTERS - 1} centroids), "
          f"accuracy before fine-tuning {acc_before:.4f}", flush=True)
    c.train(cmodel, CLUSTER_EPOCHS, 3e-4, batch=BATCH, seed=SEED + 1)
    export(cmodel.to_mlp(), "mlp_clustered", {
        "base_model": "mlp_pruned", "accuracy_base_mlp": base_acc,
        "accuracy_pruned": pruned_meta["accuracy_torch"],
        "clustering": {"clusters_per_layer": CLUSTERS, "sparsity_preserving": True,
                       "init": "k-means++ (sklearn KMeans, n_init=4)",
                       "accuracy_before_finetune": acc_before,
                       "finetune_epochs": CLUSTER_EPOCHS, "biases": "float, not clustered",
                       "seed": SEED}})


if __name__ == "__main__":
    main()
