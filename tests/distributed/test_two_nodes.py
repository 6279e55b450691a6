"""Two machines on one: two torchrun launchers, one process each, meet at a c10d rendezvous on
127.0.0.1 and train one run, as the many-machines recipes (docs/scale.md) do on a cluster.

Both "nodes" start in the same working directory, which stands for the storage every node of a
real job must share (the run directory and its checkpoints; a shared filesystem or s3://).
"""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

pytest.importorskip("torch")
pytest.importorskip("engine_torch")

from dist_helpers import engine, environment, free_port, torch_spec, weights, write_spec

TIMEOUT = 300


def node(rank: int, cwd: Path, endpoint: str, run_id: str) -> subprocess.Popen[str]:
    """One node's launcher: what each machine of a job runs (``torchrun … -m engine run``)."""
    command = [sys.executable, "-m", "torch.distributed.run", "--nnodes=2", "--nproc-per-node=1",
               f"--node-rank={rank}", "--rdzv-backend=c10d", f"--rdzv-endpoint={endpoint}", f"--rdzv-id={run_id}",
               "-m", "engine", "run", "spec.toml", "-q"]
    return subprocess.Popen(command, cwd=cwd, env=environment(cwd), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


@pytest.mark.parametrize("strategy", ["ddp", "fsdp"])
def test_two_nodes_of_one_process_end_with_the_bits_of_one_node_of_two(tmp_path: Path, strategy: str) -> None:
    single_node, two_nodes = tmp_path / "one-node", tmp_path / "two-nodes"
    for directory in (single_node, two_nodes):
        directory.mkdir()
        write_spec(directory, torch_spec(strategy, strategy))

    reference = engine("run", "spec.toml", "--nproc", "2", "-q", cwd=single_node, timeout=TIMEOUT)
    assert reference.returncode == 0, reference.stderr

    endpoint, run_id = f"127.0.0.1:{free_port()}", uuid.uuid4().hex
    nodes = [node(rank, two_nodes, endpoint, run_id) for rank in (0, 1)]
    try:
        outputs = [n.communicate(timeout=TIMEOUT) for n in nodes]
    finally:
        for n in nodes:
            n.kill()
    for n, (_, stderr) in zip(nodes, outputs, strict=True):
        assert n.returncode == 0, stderr

    run_dir = two_nodes / "runs" / strategy
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["status"] == "completed" and summary["steps"] == 12, summary
    assert (run_dir / "checkpoints" / "step-000000012" / "MANIFEST.json").is_file()
    expected = weights(single_node / "runs" / strategy)
    got = weights(run_dir)
    assert got.keys() == expected.keys()
    assert all(got[k].equal(expected[k]) for k in got)  # bit-identical
