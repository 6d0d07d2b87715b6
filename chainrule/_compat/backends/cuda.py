"""torch.backends.cuda: no CUDA build; `matmul.allow_tf32` is a settable flag."""

import types

matmul = types.SimpleNamespace(allow_tf32=False, allow_fp16_reduced_precision_reduction=True)


def is_built() -> bool:
    return False
