"""Protocols as objects: lookup, what each one trains on and evaluates, what its evaluations mean, its columns."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from comma_bench.config import RunConfig
from comma_bench.errors import UserError
from comma_bench.protocols import get_protocol, list_protocols
from comma_bench.protocols.base2novel import harmonic_mean

PACKAGE = Path(__file__).resolve().parents[2] / "comma_bench"


def test_lookup_is_in_canonical_order_and_filters_by_pattern():
    assert list_protocols() == ["base2novel", "few_shot", "cross_dataset", "domain_generalization"]
    assert list_protocols("*_*") == ["few_shot", "cross_dataset", "domain_generalization"]
    assert list_protocols("base*") == ["base2novel"]
    assert get_protocol("few_shot").name == "few_shot"


def test_unknown_protocol_is_the_registry_error():
    with pytest.raises(UserError, match=r"^unknown protocol 'base2new'; valid protocols: base2novel, cross_dataset,"):
        get_protocol("base2new")
    with pytest.raises(UserError, match="unknown protocol 'fewshot'"):
        RunConfig(method="coop", dataset="world/shapes", protocol="fewshot")


def test_transfer_protocols_need_targets():
    assert [p for p in list_protocols() if get_protocol(p).needs_targets] == ["cross_dataset", "domain_generalization"]
    with pytest.raises(UserError, match="needs at least one target dataset"):
        RunConfig(method="coop", dataset="world/objects", protocol="domain_generalization")


class _Fake:
    """Stands in for the engine: `load` returns a tag, `run_eval` records (tag, subset) and returns a set accuracy."""

    def __init__(self, accuracies: dict[str, float]) -> None:
        self.accuracies = accuracies
        self.loads: list[tuple[str, int, str]] = []
        self.evals: list[tuple[str, str]] = []

    def load(self, key: str, shots: int, subsample: str) -> str:
        self.loads.append((key, shots, subsample))
        return f"{key}:{subsample}"

    def run_eval(self, data: str, subset: str) -> float:
        self.evals.append((data, subset))
        return self.accuracies[data]


def test_base2novel_trains_on_base_and_evaluates_both_halves():
    p = get_protocol("base2novel")
    assert p.train_subsample == "base"
    fake = _Fake({"shapes:base": 80.0, "world/shapes:new": 60.0})
    metrics = p.evaluate(
        "shapes:base", run_eval=fake.run_eval, load=fake.load, dataset="world/shapes", shots=4, targets=()
    )
    assert fake.loads == [("world/shapes", 4, "new")]  # the novel half with the run's own shots and seed
    assert fake.evals == [("shapes:base", "base"), ("world/shapes:new", "new")]
    assert metrics == {"base": 80.0, "novel": 60.0, "hm": pytest.approx(2 * 80 * 60 / 140)}
    assert metrics["hm"] == harmonic_mean(80.0, 60.0)


def test_few_shot_evaluates_the_source_once():
    p = get_protocol("few_shot")
    assert p.train_subsample == "all" and p.shots_are_columns
    fake = _Fake({"src": 55.5})
    metrics = p.evaluate("src", run_eval=fake.run_eval, load=fake.load, dataset="world/shapes", shots=2, targets=())
    assert metrics == {"accuracy": 55.5} and fake.loads == [] and fake.evals == [("src", "all")]


@pytest.mark.parametrize("name", ["cross_dataset", "domain_generalization"])
def test_transfer_evaluates_every_target_on_all_classes_without_shots(name):
    p = get_protocol(name)
    fake = _Fake({"src": 70.0, "a:all": 40.0, "b:all": 50.0})
    metrics = p.evaluate("src", run_eval=fake.run_eval, load=fake.load, dataset="s", shots=16, targets=("a", "b"))
    assert fake.loads == [("a", 0, "all"), ("b", 0, "all")]
    assert metrics == {"source": 70.0, "a": 40.0, "b": 50.0, "target_mean": 45.0}


def test_roles_say_what_each_evaluation_means():
    b2n, few, xd = get_protocol("base2novel"), get_protocol("few_shot"), get_protocol("cross_dataset")
    assert [b2n.role("d", (), {"dataset": "d", "subset": s}) for s in ("base", "new", "all")] == [
        "base",
        "novel",
        "other",
    ]
    assert [few.role("d", (), {"dataset": ds, "subset": "all"}) for ds in ("d", "e")] == ["accuracy", "other"]
    assert [xd.role("d", ("t",), {"dataset": ds, "subset": "all"}) for ds in ("d", "t", "e")] == [
        "source",
        "target",
        "other",
    ]


def test_metric_columns_and_headlines():
    got = {
        p: (get_protocol(p).metric_columns, get_protocol(p).headline, get_protocol(p).headline_key)
        for p in list_protocols()
    }
    assert got == {
        "base2novel": (("Base", "Novel", "HM"), "HM", "hm"),
        "few_shot": (("Accuracy",), "Accuracy", "accuracy"),
        "cross_dataset": (("Source acc.", "Target mean"), "Target mean", "target_mean"),
        "domain_generalization": (("Source acc.", "Shifted mean"), "Shifted mean", "target_mean"),
    }


def test_each_protocol_has_table_builders_with_its_columns():
    for name in list_protocols():
        p = get_protocol(name)
        tables = p.tables()
        assert tables.protocol is p
        assert tables.ablation_plot_metrics() == (p.metric_columns if name == "base2novel" else (p.headline,))


_NAMES = "(base2novel|few_shot|cross_dataset|domain_generalization)"
# `protocol == "few_shot"`, `protocol in ("cross_dataset", ...)`, and dict literals keyed by a protocol name.
_BRANCH = re.compile(rf"""(==|!=|\bin)\s*\(?[^)\n]*["']{_NAMES}["']|["']{_NAMES}["']\s*:\s""")


def test_no_module_outside_protocols_branches_on_a_protocol_name():
    """The protocol objects are the only owners of protocol behaviour: no `protocol == "few_shot"` elsewhere.

    (On the tree before `comma_bench/protocols/` existed this finds 48 lines in nine modules.)
    """
    offenders = []
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(PACKAGE).as_posix()
        if rel.startswith(("protocols/", "world/")):
            continue
        for i, line in enumerate(path.read_text().splitlines(), 1):
            if _BRANCH.search(line):
                offenders.append(f"{rel}:{i}: {line.strip()}")
    assert offenders == []


def test_the_protocol_registry_is_the_one_list_of_protocols():
    """The registry finds the protocol modules itself, lists them by rank, and every other list is read from it."""
    from comma_bench.config.paths import CHOICES
    from comma_bench.config.schema import PROTOCOLS
    from comma_bench.protocols.registry import PROTOCOLS as REGISTRY
    from comma_bench.record_schema import RecordConfig

    assert list_protocols() == ["base2novel", "few_shot", "cross_dataset", "domain_generalization"]
    assert [get_protocol(n).rank for n in list_protocols()] == [0, 1, 2, 3]
    assert PROTOCOLS == CHOICES["protocol"] == tuple(REGISTRY.names())
    assert RecordConfig.model_fields["protocol"].annotation.__args__ == PROTOCOLS
    assert list_protocols("*_*") == ["few_shot", "cross_dataset", "domain_generalization"]


def test_a_second_protocol_under_a_registered_name_is_refused():
    import dataclasses

    from comma_bench.protocols.registry import register_protocol

    with pytest.raises(ValueError, match="protocol 'few_shot' is already registered"):
        register_protocol(dataclasses.replace(get_protocol("few_shot"), title="another"))
