"""One `--set KEY.PATH=VALUE` grammar for one run (`train`, `eval`) and for sweep files (`run`, `validate`).

Before, a run's `--set` read values with YAML 1.1 (`1e-3` became a string) and turned bad YAML into a string,
while a sweep's `--set` used the strict loader and refused it; both now go through `config.overrides`.
"""

from __future__ import annotations

import pytest

from comma_bench.cli import main
from comma_bench.config import RunConfig
from comma_bench.config.overrides import apply_overrides, parse_assignment
from comma_bench.errors import UserError
from comma_bench.sweep.spec import load_sweep
from tests.sweep.conftest import SMALL, write_sweep


def test_values_are_strict_yaml() -> None:
    assert parse_assignment("optim.lr=1e-3") == ("optim.lr", 0.001)  # YAML 1.1 reads a string here
    assert parse_assignment(" seeds = [1, 2]") == ("seeds", [1, 2])
    assert parse_assignment("method.ctx_init=a photo of a") == ("method.ctx_init", "a photo of a")
    assert parse_assignment("method.ctx_init=''") == ("method.ctx_init", "")
    with pytest.raises(UserError, match=r"^--set 'seeds': expected KEY.PATH=VALUE"):
        parse_assignment("seeds")
    with pytest.raises(UserError, match=r"^--set seeds: not valid YAML"):
        parse_assignment("seeds=[1, 2")


def test_one_run_overrides_are_typed_like_sweep_settings() -> None:
    config = apply_overrides(
        RunConfig(method="coop", dataset="world/shapes"),
        ["optim.lr=1e-3", "shots=4", "targets=a,b", "device=cpu", "method.n_ctx=8", "backbone.model=test-tiny"],
    )
    assert (config.optim.lr, config.shots, config.targets, config.device) == (0.001, 4, ("a", "b"), "cpu")
    assert config.method_config == {"n_ctx": 8} and config.backbone.model == "test-tiny"
    base = RunConfig(method="coop", dataset="world/shapes")
    with pytest.raises(UserError, match=r"^--set optim.lr: expected a valid number, got 'fast'$"):
        apply_overrides(base, ["optim.lr=fast"])
    with pytest.raises(UserError, match=r"^--set precision: unknown value 'fp8'; valid values: auto, fp32"):
        apply_overrides(base, ["precision=fp8"])
    with pytest.raises(UserError, match=r"^--set optim.lrr: unknown key; valid keys: optim.batch_size, optim.epochs,"):
        apply_overrides(base, ["optim.lrr=1"])
    with pytest.raises(UserError, match=r"^--set shot: unknown key; valid keys: data_root, dataset, device, method,"):
        apply_overrides(base, ["shot=1"])
    with pytest.raises(UserError, match=r"^--set method.depth: method 'coop' has no such setting; valid: method.class"):
        apply_overrides(base, ["method.depth=1"])
    with pytest.raises(UserError, match=r"^--set method.n_ctx: expected a valid integer, got 'four'$"):
        apply_overrides(base, ["method.n_ctx=four"])


def test_train_and_validate_give_the_same_message_for_a_malformed_flag(tmp_path, capsys) -> None:
    path = write_sweep(tmp_path, SMALL)
    assert main(["validate", str(path), "--set", "seeds"]) == 2
    sweep_err = capsys.readouterr().err.strip()
    assert main(["train", "--method", "coop", "--dataset", "world/shapes", "--set", "seeds"]) == 2
    run_err = capsys.readouterr().err.strip()
    assert (
        sweep_err.split("error: ", 1)[1]
        == run_err.split("error: ", 1)[1]
        == ("--set 'seeds': expected KEY.PATH=VALUE (e.g. --set optim.lr=0.01)")
    )
    assert load_sweep(path, ["methods.coop.optim.lr=1e-3"]).methods[0].optim == {"lr": 0.001}
