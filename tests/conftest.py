"""Shared test set-up.

Triton's interpreter must be chosen before the first ``import triton`` in the
process, so it is set here, before any test module imports gst_kernels.
"""

import os

import pytest
import torch

if not torch.cuda.is_available():
    os.environ.setdefault("TRITON_INTERPRET", "1")

# Suites of tiny networks and small matrices: one torch thread is fastest there. On a busy
# 2-core machine two threads spin-wait on each other (the GAN tests took 313 s that way
# instead of about 20 s).
ONE_THREAD_SUITES = {"gan", "ddp", "i2i", "metrics", "reliability", "apply"}


@pytest.fixture(autouse=True)
def one_thread(request):
    if request.path.parent.name not in ONE_THREAD_SUITES:
        yield
        return
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
