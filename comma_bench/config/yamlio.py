"""Strict YAML reading for sweep files and `--set` values.

PyYAML follows YAML 1.1, which has two traps for hyperparameter files: `1e-3` (no dot) is read as the *string*
"1e-3", and a key written twice silently keeps the last value. Sweep files are full of learning rates and edited by
hand, so this loader reads `1e-3` as a float and rejects duplicate keys; both would otherwise surface much later as
a confusing type error or as a silently wrong sweep.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from comma_bench.errors import UserError

# YAML 1.2-style floats, including exponents without a dot (`1e-3`, `5E+2`), which YAML 1.1 reads as strings.
_FLOAT_RE = re.compile(
    r"""^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+]?[0-9]+)?
    |[-+]?(?:[0-9][0-9_]*)(?:[eE][-+]?[0-9]+)
    |\.[0-9_]+(?:[eE][-+]?[0-9]+)?
    |[-+]?\.(?:inf|Inf|INF)
    |\.(?:nan|NaN|NAN))$""",
    re.X,
)


class _StrictLoader(yaml.SafeLoader):
    """SafeLoader with 1e-3 floats and duplicate-key errors."""


# Replace the implicit float resolver (keep every other resolver as SafeLoader has it).
_StrictLoader.yaml_implicit_resolvers = {
    ch: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:float"]
    for ch, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_StrictLoader.add_implicit_resolver("tag:yaml.org,2002:float", _FLOAT_RE, list("-+0123456789."))


def _construct_mapping(loader: _StrictLoader, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
    loader.flatten_mapping(node)
    out: dict[Any, Any] = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if key in out:
            line = key_node.start_mark.line + 1
            raise UserError(f"line {line}: key {key!r} appears twice in the same mapping")
        out[key] = loader.construct_object(value_node, deep=deep)
    return out


_StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def loads(text: str, where: str) -> Any:
    """Parse YAML text; any syntax problem becomes one line naming `where` and the line number."""
    try:
        return yaml.load(text, Loader=_StrictLoader)  # a SafeLoader subclass: no arbitrary objects
    except UserError as exc:
        raise UserError(f"{where}: {exc}") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None) or exc.__class__.__name__
        at = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        raise UserError(f"{where}: not valid YAML: {problem}{at}") from None


def load_file(path: str | Path) -> Any:
    path = Path(path)
    try:
        text = path.read_text()
    except FileNotFoundError:
        raise UserError(f"{path}: sweep file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise UserError(f"{path}: cannot read the sweep file ({exc.__class__.__name__})") from None
    return loads(text, str(path))
