"""
The speed benchmark runs end to end on the demo biLM (one repeat, no timing assertions: speed is
reported by `compress-elmo benchmark`, not tested) and writes its report and figure as a set.
"""

from pathlib import Path

from elmo_compress.benchmark.report import run_speed_benchmark


def test_benchmark_writes_report_and_plot_for_the_demo_bilm(tmp_path: Path):
    output = tmp_path / "speed"
    results = run_speed_benchmark(str(output), ("demo",), threads=1, repeats=1, whole_bilm=("demo",))
    report = (output / "speed.md").read_text()
    assert "stock allennlp" in report and "MACs/token" in report and "ideal" in report
    assert "whole biLM" in report and "int8 deviation" in report and "](speed_cpu.png)" in report
    assert (output / "speed_cpu.png").read_bytes()[:4] == b"\x89PNG"
    for rows in results["demo"].values():
        assert rows and all(row.median > 0 and row.tokens_per_second > 0 for row in rows)
