"""Prompt-learning methods by name: `list_methods()`, `get_method_spec(name)`, `build(name, backbone, classnames)`."""

from comma_bench.methods.base import MethodOutput, PromptMethod
from comma_bench.methods.registry import (
    MethodSpec,
    build,
    get_method_spec,
    list_methods,
    make_config,
    register_method,
    setting_deviations,
)

__all__ = [
    "MethodOutput",
    "MethodSpec",
    "PromptMethod",
    "build",
    "get_method_spec",
    "list_methods",
    "make_config",
    "register_method",
    "setting_deviations",
]
