"""Write the shared Fashion-MNIST data of models/data/.

  fmnist_test_x.npy   float32 [1000,1,28,28], normalised (pixel/255 - 0.2860) / 0.3530
  fmnist_test_y.npy   int64   [1000] labels
  fmnist_test_idx.npy int64   [1000] indices of those images in the 10k test set
  fmnist_calib.npz    zlib-compressed .npz holding one array, 'input' (the models' input
                      name): float32 [500,1,28,28], same normalisation; drawn from the 60k
                      training images, so disjoint from the test subset
  fmnist_calib_y.npy  int64 [500] labels of the calibration images
  fmnist_calib_idx.npy int64 [500] their indices in the 60k training set

Usage: /usr/bin/python3 models/scripts/make_data.py
"""
import os

import numpy as np

import common as c


def main():
    os.makedirs(c.DATA_DIR, exist_ok=True)
    test_idx, calib_idx = c.split_indices()
    tx, ty = c.fmnist_raw("t10k")
    x = c.normalize(tx[test_idx])
    np.save(os.path.join(c.DATA_DIR, "fmnist_test_x.npy"), x)
    np.save(os.path.join(c.DATA_DIR, "fmnist_test_y.npy"), ty[test_idx])
    np.save(os.path.join(c.DATA_DIR, "fmnist_test_idx.npy"), test_idx.astype(np.int64))
    rx, ry = c.fmnist_raw("train")
    c.save_npz(os.path.join(c.DATA_DIR, "fmnist_calib.npz"),
               {c.INPUT_NAME: c.normalize(rx[calib_idx])})
    np.save(os.path.join(c.DATA_DIR, "fmnist_calib_y.npy"), ry[calib_idx])
    np.save(os.path.join(c.DATA_DIR, "fmnist_calib_idx.npy"), calib_idx.astype(np.int64))
    print("test", x.shape, "class counts", np.bincount(ty[test_idx], minlength=10))
    print("calib", len(calib_idx))
    for f in sorted(os.listdir(c.DATA_DIR)):
        print(f"  {f}: {os.path.getsize(os.path.join(c.DATA_DIR, f))} bytes")


if __name__ == "__main__":
    main()
