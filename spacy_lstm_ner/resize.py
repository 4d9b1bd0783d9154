"""Growing a trained tagger's tag set: every learned weight of the old tags is
kept, and the new tags' weights start at zero."""

from typing import List, Sequence

from thinc.api import Model

from .tagset import TagSet


def resize_tags(model: Model, old: TagSet, new: TagSet) -> None:
    """Give `model`'s output layer, and its `crf` layer if it has one, a row
    (and a CRF start, end and transition score) per tag of `new`, a superset
    of `old`: each old tag's weights move to its new position."""
    moved = old.positions_in(new)
    old_tags, new_tags = old.tags, new.tags
    resized = resized_layers(model)
    old = {
        (layer.id, name): layer.get_param(name) for layer in resized for name in layer.param_names
    }
    for layer in resized:
        for name in layer.param_names:
            layer.set_param(name, None)  # thinc changes no dim of a layer with params
    for node in model.walk():
        if node.maybe_get_dim("nO") == len(old_tags) and any(
            layer in resized for layer in node.walk()
        ):
            node.set_dim("nO", len(new_tags), force=True)
    ops, n_new = model.ops, len(new_tags)
    rows = ops.asarray(moved)
    for layer in resized:
        for name in layer.param_names:
            value = old[layer.id, name]
            if name == "transitions":
                grown = ops.alloc((n_new, n_new), dtype=value.dtype)
                grown[rows[:, None], rows[None, :]] = value
            else:
                grown = ops.alloc((n_new, *value.shape[1:]), dtype=value.dtype)
                grown[rows] = value
            layer.set_param(name, grown)
            if layer.has_grad(name):
                layer.set_grad(name, ops.alloc(grown.shape, dtype=grown.dtype))


def resized_layers(model: Model) -> List[Model]:
    """The layers whose parameters `resize_tags` changes."""
    return [model.get_ref(ref) for ref in ("output_layer", "crf") if model.has_ref(ref)]


def forget_resized_state(optimizer, layers: Sequence[Model]) -> None:
    """Drop `optimizer`'s moments, averages and step counts of the layers'
    parameters whose shape changed since it last updated them: they start
    afresh, as the parameters of a new layer would."""
    tables = [optimizer.mom1, optimizer.mom2, optimizer.averages or {}]
    for node in layers:
        for name in node.param_names:
            key = (node.id, name)
            size = node.get_param(name).size if node.has_param(name) else None
            if any(key in table and table[key].size != size for table in tables):
                for table in tables:
                    table.pop(key, None)
                optimizer.nr_update.pop(key, None)
