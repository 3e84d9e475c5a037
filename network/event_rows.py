"""Row-gather kernels of the event path: sums of rows of a matrix picked by index lists.

- :func:`_sum_rows`: the drive of a layer, the rows of ``W`` (or ``W.T``) of the
  neurons that spiked, summed eight at a time (used by ``network/event.py`` and the
  chip kernel, ``network/chip_kernel.py``);
- the input layer's update grouped by pixel (``network/event.py``,
  ``network/event_train.py``): :func:`_image_sort_input` sorts an image's input spikes
  by pixel, :func:`_pixel_ranges` cuts the pixels into thread ranges of equal spike
  count, :func:`_pixel_update` adds each pixel's rows of ``cvec`` into its ``dW[0]``
  row in a fixed order (the same sum for every thread count); :func:`_pixel_apply`
  adds the same sum, scaled, straight into the ``W[0]`` row (ideal synapses: no
  buffer pass, ``network/event_train.py``);
- the rest of that in-kernel update: :func:`_slots_apply` (``W[k >= 1]`` from its
  per-image slots, also ``event_batch._add_reduced``'s row operation) and
  :func:`_bias_apply` (the biases).
"""
from __future__ import annotations

import numpy as np
from numba import njit


@njit(inline="always")
def _sum_rows(M, rows, m, e, out, n):
    """``out[:n] = sum of M[rows[m:e], :n]``, eight rows per pass (one load and
    one store of ``out`` per eight rows)."""
    for j in range(n):
        out[j] = 0.0
    while m + 8 <= e:
        a = M[rows[m]]
        b = M[rows[m + 1]]
        c = M[rows[m + 2]]
        d = M[rows[m + 3]]
        a2 = M[rows[m + 4]]
        b2 = M[rows[m + 5]]
        c2 = M[rows[m + 6]]
        d2 = M[rows[m + 7]]
        for j in range(n):
            out[j] += ((a[j] + b[j]) + (c[j] + d[j])) + ((a2[j] + b2[j]) + (c2[j] + d2[j]))
        m += 8
    while m < e:
        a = M[rows[m]]
        for j in range(n):
            out[j] += a[j]
        m += 1


@njit(cache=True)
def _image_sort_input(sq, ptr, n_steps, b, B, n0, srt, sst):
    """The input spikes of image ``b`` (steps s < n_steps) grouped by pixel (counting
    sort, stable): pixel k's spikes are the flat rows ``s * B + b`` of ``cvec``
    ``srt[sst[k]:sst[k+1]]``, in step order.  Read by :func:`_pixel_update`."""
    e = ptr[n_steps]
    for k in range(n0 + 1):
        sst[k] = 0
    for m in range(e):
        sst[sq[m] + 1] += 1
    for k in range(n0):
        sst[k + 1] += sst[k]
    for s in range(n_steps):
        row = s * B + b
        for m in range(ptr[s], ptr[s + 1]):
            k = sq[m]
            pos = sst[k]
            srt[pos] = row
            sst[k] = pos + 1
    for k in range(n0, 0, -1):   # back to starts
        sst[k] = sst[k - 1]
    sst[0] = 0


@njit(inline="always")
def _pixel_update(dW0, cv2, srt, sst, k0, k1, rows, tmp):
    """``dW0[k, :] += sum of cvec rows`` of the input spikes of pixel k, for k0 <= k < k1,
    all images of the batch: rows in image order, then step order (a fixed order: the
    same sum for every thread count and split), eight rows per pass.  It is
    :func:`_pixel_apply` with scale 1 (``tmp * 1 == tmp`` exactly in float32)."""
    _pixel_apply(dW0, np.float32(1.0), cv2, srt, sst, k0, k1, rows, tmp)


@njit(inline="always")
def _pixel_ranges(sst, n0, n_thr):
    """Cuts of the pixels 0..n0 into ``n_thr`` contiguous ranges of about equal spike rows
    (a deterministic function of the spikes), and the most rows of one pixel."""
    B = sst.shape[0]
    tot = 0
    for b in range(B):
        tot += sst[b, n0]
    kcut = np.zeros(n_thr + 1, np.int64)
    kcut[n_thr] = n0
    acc_w = 0
    mx = 1
    g = 1
    for k in range(n0):
        m = 0
        for b in range(B):
            m += sst[b, k + 1] - sst[b, k]
        acc_w += m
        mx = max(mx, m)
        while g < n_thr and acc_w * n_thr >= g * tot:
            kcut[g] = k + 1
            g += 1
    while g < n_thr:
        kcut[g] = n0
        g += 1
    return kcut, mx


@njit(inline="always")
def _pixel_apply(W0, scale, cv2, srt, sst, k0, k1, rows, tmp):
    """``W0[k, :] += tmp * scale`` with ``tmp`` the sum of the cvec rows of the input
    spikes of pixel k (as in :func:`_pixel_update`), k0 <= k < k1.  Into ``W[0]``: the same
    float32 operations as :func:`_pixel_update` into a zeroed buffer followed by
    ``event_batch.apply_buffers`` (``0 + tmp == tmp``), so the same weights bit for bit;
    pixels without spikes are left alone (``W + 0 * scale == W``)."""
    B = sst.shape[0]
    n1 = W0.shape[1]
    for k in range(k0, k1):
        m = 0
        for b in range(B):
            for q in range(sst[b, k], sst[b, k + 1]):
                rows[m] = srt[b, q]
                m += 1
        if m > 0:
            _sum_rows(cv2, rows, 0, m, tmp, n1)
            wr = W0[k]
            for j in range(n1):
                wr[j] += tmp[j] * scale


@njit(inline="always")
def _slots_apply(W, buf, scale, i0, i1):
    """``W[i, :] += scale * sum over slots of buf[:, i, :]`` for i0 <= i < i1, the slots
    summed in order from a float32 zero and zeroed (``event_batch._add_reduced`` runs it
    row by row; the event kernel on a range of rows)."""
    C = buf.shape[0]
    m = buf.shape[2]
    for i in range(i0, i1):
        for j in range(m):
            t = np.float32(0.0)
            for c in range(C):
                t += buf[c, i, j]
                buf[c, i, j] = 0.0
            W[i, j] += t * scale


@njit(inline="always")
def _bias_apply(bv, bbuf, scale, j0, j1):
    """``bv[j] += scale * sum over slots of bbuf[:, j]`` for j0 <= j < j1 (slots in order,
    as numpy's ``bbuf.sum(axis=0)``), slots zeroed."""
    C = bbuf.shape[0]
    for j in range(j0, j1):
        t = bbuf[0, j]
        bbuf[0, j] = 0.0
        for c in range(1, C):
            t += bbuf[c, j]
            bbuf[c, j] = 0.0
        bv[j] += scale * t
