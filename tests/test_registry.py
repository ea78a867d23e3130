"""The generic registry: registration, lazy entries, discovery by registration call, listing, the unknown-name error,
and `comma-bench list KIND [PATTERN]` over the four live registries."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

from comma_bench import registry as reg
from comma_bench.cli import main
from comma_bench.errors import UserError
from comma_bench.registry import Registry


def test_register_get_list_and_the_unknown_name_error():
    widgets: Registry[int] = Registry("widget")
    widgets.add("beta", 2)

    @widgets.register("alpha")
    def alpha() -> int:
        return 1

    assert widgets.get("alpha") is alpha and widgets.get("beta") == 2
    assert widgets.names() == ["alpha", "beta"] and widgets.names("b*") == ["beta"] and widgets.names("z*") == []
    assert "alpha" in widgets and "gamma" not in widgets and widgets.find("gamma") is None
    with pytest.raises(UserError, match=r"^unknown widget 'gamma'; valid widgets: alpha, beta$"):
        widgets.get("gamma")
    with pytest.raises(ValueError, match="widget 'beta' is already registered"):
        widgets.add("beta", 3)
    widgets.remove("beta")
    assert widgets.names() == ["alpha"]


def test_lazy_entries_import_their_module_on_first_get():
    lazy: Registry[object] = Registry("thing", sort_key=lambda name, _entry: -len(name))
    lazy.add_lazy("dumps", "json:dumps")
    lazy.add("x", object())
    assert lazy.names() == ["dumps", "x"]  # the per-kind order, here longest name first
    import json

    assert lazy.get("dumps") is json.dumps
    with pytest.raises(ValueError, match="expected 'module:attr'"):
        lazy.add_lazy("bad", "json.dumps")
    with pytest.raises(ValueError, match="already registered"):
        lazy.add_lazy("dumps", "json:loads")


def test_discovery_imports_only_modules_that_call_the_registration_function(tmp_path, monkeypatch):
    """A new plugin module is found by its registration call alone: nothing lists it."""
    pkg = tmp_path / "myplugins"
    (pkg / "sub").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "sub" / "__init__.py").write_text("")
    (pkg / "sub" / "gadget.py").write_text(
        textwrap.dedent(
            """
            from tests.test_registry import GADGETS

            def register_gadget(name):
                GADGETS.add(name, __name__)

            register_gadget("sprocket")
            """
        )
    )
    (pkg / "unrelated.py").write_text("raise RuntimeError('must not be imported')\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(reg, "PLUGIN_ROOTS", ("myplugins",))
    reg.modules_calling.cache_clear()
    try:
        global GADGETS
        GADGETS = Registry("gadget", marker="register_gadget")
        assert reg.modules_calling("register_gadget") == ("myplugins.sub.gadget",)
        assert GADGETS.names() == ["sprocket"]
        assert GADGETS.get("sprocket") == "myplugins.sub.gadget"
    finally:
        reg.modules_calling.cache_clear()
        for name in [m for m in sys.modules if m.startswith("myplugins")]:
            del sys.modules[name]


GADGETS: Registry[str] = Registry("gadget", marker="register_gadget")


def test_the_core_names_no_plugin_module_and_every_baseline_is_found():
    found = reg.modules_calling("register_method")
    assert {"baselines.coop", "baselines.cocoop", "baselines.maple", "baselines.ivlp", "baselines.vpt"} <= set(found)
    assert {"comma_bench.methods.comma", "comma_bench.methods.zeroshot"} <= set(found)
    assert not any(m.startswith(("comma_bench.sweep", "comma_bench.report", "comma_bench.engine")) for m in found)


def test_listing_datasets_and_protocols_imports_neither_torch_nor_pandas():
    code = (
        "import sys\n"
        "from comma_bench.data.registry import list_datasets\n"
        "from comma_bench.protocols import list_protocols\n"
        "assert 'world/shapes' in list_datasets() and 'oxford_pets' in list_datasets()\n"
        "assert list_protocols()[0] == 'base2novel'\n"
        "print(sorted(m for m in ('torch', 'pandas', 'ray') if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_cli_lists_every_kind_with_a_pattern(capsys):
    assert main(["list", "methods"]) == 0
    assert capsys.readouterr().out.split() == ["zeroshot", "coop", "cocoop", "vpt", "ivlp", "maple", "comma"]
    assert main(["list", "methods", "co*"]) == 0
    assert capsys.readouterr().out.split() == ["coop", "cocoop", "comma"]
    assert main(["list", "protocols", "*_*"]) == 0
    assert capsys.readouterr().out.split() == ["few_shot", "cross_dataset", "domain_generalization"]
    assert main(["list", "datasets", "world/s*"]) == 0
    assert capsys.readouterr().out.split() == ["world/shapes"]
    assert main(["list", "models", "*tiny*"]) == 0
    models = capsys.readouterr().out.split()
    assert models[:2] == ["test-tiny", "world-tiny"] and "convnext_tiny" in models  # built-in first, then open_clip
    assert main(["list", "methods", "nothing*"]) == 0
    assert capsys.readouterr().out == ""


def test_cli_long_listing_reads_each_entry_description_from_its_object(capsys):
    assert main(["list", "protocols", "few*", "--long"]) == 0
    assert capsys.readouterr().out == "few_shot  train and test on all classes with K shots per class (CoOp)\n"
    assert main(["list", "methods", "coop", "--long"]) == 0
    assert capsys.readouterr().out == "coop  Zhou et al., Learning to Prompt for Vision-Language Models (IJCV'22)\n"
    assert main(["list", "datasets", "world/shapes", "--long"]) == 0  # datasets carry no description: names only
    assert capsys.readouterr().out == "world/shapes\n"


def test_cli_list_rejects_an_unknown_kind(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["list", "recipes"])
    assert exc.value.code == 2
    assert "invalid choice: 'recipes'" in capsys.readouterr().err
