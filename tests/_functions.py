"""Custom autograd Functions that tests in several folders share, for either library."""


def square_function(m, slope=2.0):
    """A custom m.autograd.Function (m is chainrule or torch) for x * x whose backward
    returns slope * x * g: slope 2 is the true derivative, any other slope a wrong rule."""

    class Square(m.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * x

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return g * slope * x

    return Square


class SavingMul:
    """Mixin with a forward a * b that saves both operands, for the Functions whose backward or
    jvp a test writes wrong on purpose: works for Op (NumPy arrays) and Function (Tensors)."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return a * b


def double_function(m):
    """A custom m.autograd.Function (m is chainrule or torch) for x * 2 with backward g * 2, no
    jvp and no docstring: what tools do with an undocumented rule; subclasses break one method."""

    class Double(m.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, g):
            return g * 2

    return Double
