"""Anomaly detection: the op, and the line of your code, that first made a NaN or an Inf.

    with chainrule.autograd.detect_anomaly():      # or @detect_anomaly(), set_detect_anomaly(True)
        loss = model(x)                            # forward: raises at the first bad op
        loss.backward()                            # backward: raises at the first nan gradient

forward   Every op run through `Function.apply` (tracked or not) has its float outputs checked.
          An output holding NaN raises RuntimeError. An output holding +-Inf raises when the op
          made it: all its inputs (tensors and constants) were finite - `log(0)`, `1/0`,
          `exp(1000)`. An Inf that came in (a -inf attention mask in `masked_fill`, then
          `scores + mask`) is passed on, as the mask idiom needs. The message names the op
          (`Log`), the file and line of your code that called it (the innermost frame outside
          the chainrule package; chainrule/labs counts as yours), the bad output and each
          input's shape, dtype, min, max and NaN / Inf counts, and a hint for the usual fix.
          Ops run by the engine while it computes gradients are not checked here: a backward
          rule may pass through inf on the way (sqrt's g / (2 * out) at 0); the backward check
          sees what the rule returns.
backward  Each recorded op remembers where it was called (`node._site`). When a node's backward
          returns a gradient holding NaN (with check_nan=True, as PyTorch), RuntimeError names
          the node ("Function 'MulBackward0' returned nan values in its 0th output."), the
          forward site of the op, the upstream gradient's range and a hint. Any other error
          raised inside a backward gets the forward site added as a note (PyTorch prints the
          forward traceback likewise).

check_nan=False keeps the sites (for backward errors) and turns both NaN/Inf checks off.

The flag is process-global, as PyTorch's: it is read by every thread. `detect_anomaly` and
`set_detect_anomaly` restore the previous state on exit, so they nest. Switched off, the cost
is one `is not None` test per op; switched on, two reductions per float output and a walk up
the stack per recorded op - a debugging tool, as in PyTorch.
"""

from __future__ import annotations

import contextlib
import linecache
import os
import sys

import numpy as np

from chainrule.autograd import engine, function, observers

_enabled = False
_check_nan = True
_observing = None  # the observers.Registration while anomaly detection is on

# Frames in these files are chainrule's own (or contextlib's decorator wrapper): a site is the
# innermost frame outside them. The labs are course programs written as a user would.
_PKG = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep
_LABS = _PKG + "labs" + os.sep
_CONTEXTLIB = os.path.abspath(contextlib.__file__)
_internal_cache: dict[str, bool] = {}


def _is_internal(filename: str) -> bool:
    r = _internal_cache.get(filename)
    if r is None:
        path = os.path.abspath(filename)
        r = (path.startswith(_PKG) and not path.startswith(_LABS)) or path == _CONTEXTLIB
        _internal_cache[filename] = r
    return r


def user_site(depth: int = 1):
    """(filename, lineno, function) of the innermost caller outside chainrule, or None."""
    f = sys._getframe(depth)
    while f is not None and _is_internal(f.f_code.co_filename):
        f = f.f_back
    if f is None:
        return None
    return (f.f_code.co_filename, f.f_lineno, f.f_code.co_name)


def format_site(site) -> str:
    """A site as Python's traceback writes a frame: the file, line, function and source."""
    if site is None:
        return "<no frame outside chainrule>"
    filename, lineno, func = site
    text = f'File "{filename}", line {lineno}, in {func}'
    line = linecache.getline(filename, lineno).strip()
    return f"{text}\n    {line}" if line else text


def describe(value) -> str:
    """One line on a value: shape, dtype, range, and how many NaN / Inf it holds."""
    from chainrule.tensor import Tensor

    if isinstance(value, Tensor):
        kind, a = "Tensor", value.array
    elif isinstance(value, np.ndarray):
        kind, a = "array", value
    elif value is None or isinstance(value, (bool, int, float, complex, np.generic)):
        return f"constant {value!r}"
    else:
        text = repr(value)
        return f"{type(value).__name__} {text[:60]}{'...' if len(text) > 60 else ''}"
    text = f"{kind} shape {list(a.shape)}, {a.dtype}"
    if a.size == 0:
        return text + ", empty"
    if a.dtype.kind not in "fc":
        return text + f", min {a.min()}, max {a.max()}"
    nan = np.isnan(a)
    rest = a[~nan]
    n_nan = int(nan.sum())
    if rest.size:
        text += f", min {rest.min():.6g}, max {rest.max():.6g}"
    counts = [f"{n_nan} nan"] if n_nan else []
    n_pos, n_neg = int(np.isposinf(rest).sum()), int(np.isneginf(rest).sum())
    if n_pos:
        counts.append(f"{n_pos} +inf")
    if n_neg:
        counts.append(f"{n_neg} -inf")
    return text + (f", {', '.join(counts)} of {a.size}" if counts else ", all finite")


def _finite(a: np.ndarray) -> bool:
    """True when the float array holds no NaN and no Inf (two reductions, no temporaries)."""
    if a.size == 0:
        return True
    hi = np.maximum.reduce(a, axis=None)  # NaN propagates through maximum
    return bool(np.isfinite(hi) and np.isfinite(np.minimum.reduce(a, axis=None)))


def _any_nonfinite(values) -> bool:
    from chainrule.tensor import Tensor

    for v in values:
        if isinstance(v, Tensor):
            v = v.array
        if isinstance(v, np.ndarray):
            if v.dtype.kind == "f" and not _finite(v) or \
                    v.dtype.kind == "c" and not np.isfinite(v).all():
                return True
        elif isinstance(v, float) and not np.isfinite(v):
            return True
        elif isinstance(v, (list, tuple)) and _any_nonfinite(v):
            return True
    return False


def _in_backward_pass() -> bool:
    """Whether the engine is on the stack (an op run by a backward rule or a hook)."""
    code = engine.run_backward.__code__
    f = sys._getframe(1)
    while f is not None:
        if f.f_code is code:
            return True
        f = f.f_back
    return False


def _bad_values(a: np.ndarray) -> tuple[str, str]:
    """('nan' | '+inf' | '-inf' | 'inf', 'k of n values non-finite (...), first at index i')."""
    nan, pos, neg = int(np.isnan(a).sum()), int(np.isposinf(a).sum()), int(np.isneginf(a).sum())
    parts = [f"{n} {w}" for n, w in ((nan, "nan"), (pos, "+inf"), (neg, "-inf")) if n]
    first = tuple(int(i) for i in np.argwhere(~np.isfinite(a))[0])
    word = "nan" if nan else ("inf" if pos and neg else "+inf" if pos else "-inf")
    where = f", first at index {first}" if a.ndim else ""
    return word, f"{nan + pos + neg} of {a.size} values non-finite ({', '.join(parts)}){where}"


_HINTS = {
    "Log": "log(x) is -inf at x = 0 and nan for x < 0. Keep the input positive: "
           "x.clamp(min=1e-12).log() or (x + eps).log(); for probabilities use log_softmax, "
           "logsigmoid or binary_cross_entropy_with_logits, which never take log(0).",
    "Log1p": "log1p(x) is -inf at x = -1 and nan for x < -1: keep x > -1.",
    "Sqrt": "sqrt(x) is nan for x < 0: clamp(min=0) first. Its gradient 1 / (2 sqrt(x)) is "
            "inf at 0, so add a small eps inside: (x + 1e-12).sqrt().",
    "Rsqrt": "rsqrt(x) is inf at 0 and nan for x < 0: use (x + eps).rsqrt().",
    "Div": "0 / 0 is nan and x / 0 is +-inf. Guard the denominator: a / (b + eps), "
           "a / b.clamp(min=eps), or where(b != 0, a / b, 0) with b replaced by 1 where it is 0.",
    "Reciprocal": "1 / 0 is inf: guard the input ((x + eps).reciprocal()).",
    "Pow": "a negative base to a fractional power is nan, and 0 to a negative power is inf: "
           "clamp the base or add eps.",
    "Exp": "exp overflows to inf above ~88.7 (float32) or ~709.8 (float64): subtract the "
           "maximum first (as softmax does) or use logsumexp / log_softmax.",
    "Expm1": "expm1 overflows to inf above ~88.7 (float32) or ~709.8 (float64).",
}


def _hint(name: str, inputs_finite: bool, dtype, word: str) -> str:
    hint = _HINTS.get(name)
    if hint is not None:
        return hint
    if not inputs_finite:
        return ("an input already holds nan or inf (inf - inf and 0 * inf are nan): find the op "
                "that made it by running the whole forward pass under detect_anomaly().")
    if word == "nan":
        return ("the op made nan from finite inputs: an invalid operation inside it (0 / 0, "
                "inf - inf or 0 * inf after an overflow, a mean over no elements - e.g. every "
                "target equal to ignore_index - or a value outside the op's domain).")
    if dtype.kind == "f":
        return (f"with finite inputs this is an overflow past the largest {dtype} "
                f"({np.finfo(dtype).max:.4g}): normalize the inputs, lower the learning rate, "
                f"or compute in float64.")
    return "check the op's inputs against its domain."


def _forward_hook(ctx, outs, args) -> None:
    """A forward observer, after every op: remember the site, check the outputs."""
    if ctx._edges:  # recorded: backward errors will name this site
        ctx._site = user_site(2)
    if not _check_nan:
        return
    for nr, out in enumerate(outs):
        a = out.array
        if a.dtype.kind != "f" or _finite(a):
            continue
        if _in_backward_pass():
            return
        inputs_finite = not _any_nonfinite(args)
        word, counts = _bad_values(a)
        if word != "nan" and not inputs_finite:
            continue  # the inf came in (e.g. a -inf mask): passed on, not made here
        name = ctx._fn.__name__
        site = ctx._site if ctx._edges else user_site(2)
        lines = [
            f"Function '{name}' returned {word} values in its output {nr} "
            f"(forward pass, detect_anomaly).",
            f"The op was called at {format_site(site)}",
            f"output {nr}: shape {list(a.shape)}, {a.dtype}: {counts}",
            "inputs:",
        ]
        lines += [f"  input {i}: {describe(v)}" for i, v in enumerate(args)]
        lines.append(f"Hint: {_hint(name, inputs_finite, a.dtype, word)}")
        raise RuntimeError("\n".join(lines))


def _node_hook(node, buf, run):
    """A node observer: run one node's backward; name its forward site in an error; raise if
    a gradient holds NaN."""
    try:
        grads = run()
    except Exception as e:
        e.add_note(f"Error detected in {node.name()}. " + _forward_site_text(node))
        raise
    if not _check_nan:
        return grads
    for i, g in enumerate(grads):
        if g is None:
            continue
        a = g.array
        if a.dtype.kind != "f" or a.size == 0 or not np.isnan(np.maximum.reduce(a, axis=None)):
            continue
        _, counts = _bad_values(a)
        lines = [
            f"Function '{node.name()}' returned nan values in its {i}th output.",
            _forward_site_text(node),
            f"gradient {i} (for input {i} of {node._fn.__name__}): shape {list(a.shape)}, "
            f"{a.dtype}: {counts}",
            "upstream gradient (of the op's output):",
        ]
        lines += [f"  output {k}: {describe(u) if u is not None else 'None (zeros)'}"
                  for k, u in enumerate(buf)]
        if node._saved:
            lines.append("saved for backward:")
            lines += [f"  {k} ({('input', 'output', 'value')[kind]}): "
                      f"{describe(v[0] if kind == function._OUTPUT else v)}"
                      for k, (kind, v, _) in enumerate(node._saved)]
        lines.append(
            "Hint: a nan gradient is most often 0 * inf: the op's local derivative is infinite "
            "at this input (sqrt, log, pow or a division at 0) while the upstream gradient is "
            "0 there (the value was masked by where(), relu or clamp after the op). Mask the "
            "input before the op instead (x = where(mask, x, 1) before x.sqrt()), or keep it "
            "away from the singular point (x + eps)."
        )
        raise RuntimeError("\n".join(lines))
    return grads


def _forward_site_text(node) -> str:
    if node._site is None:
        return (f"The forward op {node._fn.__name__} was recorded while anomaly detection was "
                f"off: run the forward pass inside detect_anomaly() to see where it was called.")
    return f"The forward op {node._fn.__name__} was called at {format_site(node._site)}"


def _set(mode: bool, check_nan: bool) -> None:
    global _enabled, _check_nan, _observing
    _enabled, _check_nan = bool(mode), bool(check_nan)
    if _observing is not None:
        _observing.remove()
    _observing = observers.register(forward=_forward_hook, node=_node_hook) if _enabled else None


def is_anomaly_enabled() -> bool:
    """Whether detect_anomaly / set_detect_anomaly(True) is on."""
    return _enabled


def is_anomaly_check_nan_enabled() -> bool:
    return _check_nan


class detect_anomaly(contextlib.ContextDecorator):
    """Context manager and decorator: anomaly detection on inside, the previous state after."""

    def __init__(self, check_nan: bool = True):
        self.check_nan = check_nan
        self._prev: list[tuple[bool, bool]] = []  # a stack: the same object may be re-entered

    def __enter__(self):
        self._prev.append((_enabled, _check_nan))
        _set(True, self.check_nan)
        return self

    def __exit__(self, *exc) -> bool:
        _set(*self._prev.pop())
        return False


class set_detect_anomaly:
    """set_detect_anomaly(mode): switch anomaly detection on or off now; as a context manager,
    the state from before the call comes back on exit (as PyTorch)."""

    def __init__(self, mode: bool, check_nan: bool = True):
        self.prev = (_enabled, _check_nan)
        _set(mode, check_nan)

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> bool:
        _set(*self.prev)
        return False
