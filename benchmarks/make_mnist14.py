"""A non-MNIST IDX dataset derived from MNIST: 14x14 (2x2 mean), labels kept."""
import gzip, hashlib, struct, sys
from pathlib import Path
import numpy as np
from eqspike.datasets import load_dataset
out = Path(sys.argv[1]); out.mkdir(parents=True, exist_ok=True)
d = load_dataset()
def idx(a):
    a = np.asarray(a, np.uint8)
    return b"\x00\x00\x08" + bytes([a.ndim]) + struct.pack(">" + "I" * a.ndim, *a.shape) + a.tobytes()
lines = []
for split, x, y in (("train", d.x_train, d.y_train), ("t10k", d.x_test, d.y_test)):
    img = (x.reshape(-1, 14, 2, 14, 2).mean(axis=(2, 4)) * 255).round().astype(np.uint8)
    for kind, arr, nd in (("images", img, 3), ("labels", y, 1)):
        name = f"{split}-{kind}-idx{nd}-ubyte.gz"
        blob = gzip.compress(idx(arr))
        (out / name).write_bytes(blob)
        lines.append(f"{hashlib.sha256(blob).hexdigest()}  {name}")
(out / "SHA256SUMS").write_text("\n".join(lines) + "\n")
print("wrote", out)
