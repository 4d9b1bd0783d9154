"""A layer's own dropout rate, kept when spaCy sets the training dropout."""

from thinc.api import Model


def fixed_dropout(layer: Model, rate: float) -> Model:
    """`layer`, whose `dropout_rate` attribute is `rate` whenever it runs:
    spaCy's `set_dropout_rate` finds no `dropout_rate` on the wrapper, and the
    wrapper restores the inner layer's before each call."""
    return Model(
        f"fixed_dropout({layer.name})",
        _fixed_dropout_forward,
        layers=[layer],
        dims={"nO": layer.maybe_get_dim("nO")},
        attrs={"rate": rate},
        init=_fixed_dropout_init,
    )


def _fixed_dropout_init(model: Model, X=None, Y=None) -> None:
    model.layers[0].initialize(X=X, Y=Y)


def _fixed_dropout_forward(model: Model, X, is_train: bool):
    inner = model.layers[0]
    inner.attrs["dropout_rate"] = model.attrs["rate"]
    return inner(X, is_train)
