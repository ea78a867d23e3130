"""A report that holds built-in world runs says, once, what they are and are not evidence of."""

from __future__ import annotations

from conftest import FIXED_TIME, b2n_records, vit_records, write_records

from comma_bench.report import generate_report
from comma_bench.report.render import WORLD_NOTE


def test_world_runs_get_the_note_and_real_data_runs_do_not(tmp_path):
    write_records(tmp_path / "world" / "runs", b2n_records())
    write_records(tmp_path / "vit" / "runs", vit_records())
    generate_report([tmp_path / "world"], tmp_path / "w", generated_at=FIXED_TIME, formats=("md",))
    generate_report([tmp_path / "vit"], tmp_path / "v", generated_at=FIXED_TIME, formats=("md",))
    world = (tmp_path / "w" / "report.md").read_text()
    assert world.count(WORLD_NOTE) == 1 and "not of how they rank on real images" in WORLD_NOTE
    assert WORLD_NOTE not in (tmp_path / "v" / "report.md").read_text()
