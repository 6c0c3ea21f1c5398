"""The Python blocks of docs/api.md run as written: documentation cannot rot."""

from __future__ import annotations

import os
import re
from pathlib import Path

from hybridnet.metrics import METRICS

ROOT = Path(__file__).resolve().parents[1]


def test_api_page_runs(tmp_path, monkeypatch):
    text = (ROOT / "docs" / "api.md").read_text()
    blocks = re.findall(r"```python\n(.*?)```", text, flags=re.S)
    assert len(blocks) >= 6
    monkeypatch.chdir(tmp_path)
    for name in ("scenarios",):
        os.symlink(ROOT / name, tmp_path / name)
    namespace: dict[str, object] = {"__name__": "docs_api"}
    for block in blocks:
        exec(compile(block, "docs/api.md", "exec"), namespace)  # noqa: S102
    assert (tmp_path / "timeline.png").stat().st_size > 0
    assert (tmp_path / "sweep-example" / "results.csv").is_file()
    assert (tmp_path / "sweep-example" / "reward.png").stat().st_size > 0


def test_outputs_page_explains_every_metric():
    """Every column the metrics give a results.csv row has its line in docs/outputs.md."""
    text = (ROOT / "docs" / "outputs.md").read_text()
    missing = [name for name in METRICS if f"| `{name}` |" not in text]
    assert not missing, f"document in docs/outputs.md: {missing}"
