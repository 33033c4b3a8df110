"""Train the float bundled models on Fashion-MNIST, export ONNX (opset 13, dynamic batch),
and write the reference outputs of PyTorch and ONNX Runtime on the test subset.

For each model NAME this writes models/NAME/:
  NAME.onnx       the exported model (input 'input' [batch,1,28,28], output 'logits' [batch,10])
  ref_torch.npy   float32 [1000,10] PyTorch logits on data/fmnist_test_x.npy
  ref_ort.npy     float32 [1000,10] ONNX Runtime logits on the same input
  meta.json       accuracy, ONNX op types, sizes, max |torch - ort|
and a checkpoint models/NAME/work/NAME.pt (git-ignored; the QAT and pruning scripts reuse it).

Usage: /usr/bin/python3 models/scripts/train_float.py [NAME ...]
       (default: all of mlp lenet mobilenet transformer lstm gru; run make_data.py first)
"""
import os
import sys
import time

import torch

import common as c
import nets

# name: (constructor, epochs, max learning rate, weight decay, seed, export mode)
SPECS = {
    "mlp": (nets.MLP, 10, 2e-3, 1e-4, 1, None),
    "lenet": (nets.LeNet, 8, 3e-3, 1e-4, 2, None),
    # TrainingMode.PRESERVE with the model in eval mode keeps BatchNormalization nodes
    # (the default EVAL export would fold them into the convolutions).
    "mobilenet": (nets.MobileNet, 4, 4e-3, 1e-4, 3, torch.onnx.TrainingMode.PRESERVE),
    "transformer": (nets.Transformer, 6, 2e-3, 1e-2, 4, None),
    "lstm": (lambda: nets.RNN("lstm"), 6, 4e-3, 1e-4, 5, None),
    "gru": (lambda: nets.RNN("gru"), 6, 4e-3, 1e-4, 6, None),
}


def checkpoint_path(name):
    return os.path.join(c.MODELS_DIR, name, "work", f"{name}.pt")


def build(name):
    """The trained float model NAME (from its checkpoint)."""
    model = SPECS[name][0]()
    model.load_state_dict(torch.load(checkpoint_path(name)))
    model.eval()
    return model


def run(name):
    ctor, epochs, lr, wd, seed, mode = SPECS[name]
    c.setup(seed)
    d = os.path.join(c.MODELS_DIR, name)
    os.makedirs(os.path.join(d, "work"), exist_ok=True)
    model = ctor()
    print(f"== {name}: {c.count_params(model)} parameters, {epochs} epochs", flush=True)
    t0 = time.time()
    c.train(model, epochs, lr, weight_decay=wd, seed=seed)
    train_s = time.time() - t0
    torch.save(model.state_dict(), checkpoint_path(name))
    x, _ = c.load_test()
    logits = c.predict(model, x)
    c.export_onnx(model, os.path.join(d, f"{name}.onnx"), torch.from_numpy(x[:1]), training=mode)
    extra = {"parameters": c.count_params(model), "epochs": epochs, "train_seconds": round(train_s),
             "seed": seed}
    if name == "mobilenet":
        extra["batchnorm"] = ("exported as BatchNormalization nodes (TrainingMode.PRESERVE, "
                              "model in eval mode); not folded by torch")
    c.finish_model(name, logits, extra)


def main():
    c.main_guard()
    names = sys.argv[1:] or list(SPECS)
    for n in names:
        if n not in SPECS:
            sys.exit(f"unknown model {n}; choose from {', '.join(SPECS)}")
    for n in names:
        run(n)


if __name__ == "__main__":
    main()
