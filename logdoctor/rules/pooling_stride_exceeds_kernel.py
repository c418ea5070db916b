"""LD402 pooling-stride-exceeds-kernel: a pooling layer whose stride is larger than its kernel.

What it detects: a ``Pooling`` layer in the printed net definition with
``stride`` > ``kernel_size`` (in either direction).

Why it matters: with Caffe's ceil rounding the last pooling window can start
beyond the input, so it covers nothing: average pooling divides 0 by 0 (nan) and
max pooling returns -FLT_MAX and writes out of bounds in the backward pass.  The
input between windows is also silently skipped.

What to do: make the stride at most the kernel size, or pad the input so that
every window overlaps it.
"""

from __future__ import annotations

import dataclasses
from typing import Iterator

from logdoctor.model import Finding, Severity
from logdoctor.rules.base import Rule
from logdoctor.series import Run, fmt


@dataclasses.dataclass(frozen=True)
class PoolingStrideExceedsKernel(Rule):
    code = "LD402"
    name = "pooling-stride-exceeds-kernel"
    severity = Severity.WARNING
    advice = "Use a stride no larger than the kernel (or pad the input) so that every pooling window covers input."
    fires_on = (
        "I0101 00:00:00.0 1 net.cpp:53] Initializing net from parameters: \nlayer {\n  name: \"pool1\"\n"
        "  type: \"Pooling\"\n  pooling_param {\n    pool: AVE\n    kernel_size: 3\n    stride: 5\n  }\n}\n"
        "I0101 00:00:00.1 1 solver.cpp:1] Iteration 0, loss = nan\n",
    )
    silent_on = (
        "I0101 00:00:00.0 1 net.cpp:53] Initializing net from parameters: \nlayer {\n  name: \"pool1\"\n"
        "  type: \"Pooling\"\n  pooling_param {\n    pool: MAX\n    kernel_size: 3\n    stride: 2\n  }\n}\n"
        "I0101 00:00:00.1 1 solver.cpp:1] Iteration 0, loss = 2.3\n",
    )

    def check(self, run: Run) -> Iterator[Finding]:
        for layer, settings in run.layers.items():
            if settings.get("type", (0, "", 0))[1].lower() not in ("pooling", "pooling_layer"):
                continue
            for kernel_key, stride_key in (("kernel_size", "stride"), ("kernel_h", "stride_h"),
                                           ("kernel_w", "stride_w")):
                kernel = settings.get(kernel_key) or settings.get("kernel_size")
                stride = settings.get(stride_key) or settings.get("stride")
                if kernel and stride and stride[0] > kernel[0]:
                    pool = settings.get("pool", (0, "MAX", 0))[1]
                    yield self.finding(
                        f"pooling layer {layer} ({pool}) has stride {fmt(stride[0])} > kernel {fmt(kernel[0])}: "
                        "windows can fall outside the input (nan for AVE, -FLT_MAX and out-of-bounds writes for MAX)",
                        line=stride[2], metric=layer, evidence=[kernel[2], stride[2]],
                        values=[("kernel", kernel[0]), ("stride", stride[0])])
                    break
