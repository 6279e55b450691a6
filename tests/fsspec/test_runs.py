"""Runs with checkpoints on a real S3 server (CLI) and on memory:// (in one process)."""

from __future__ import annotations

import json

from fsspec_helpers import checkpoint_names, final_weights, spec_text, summary

from engine.testing import run_spec


def test_run_checkpoints_resume_on_s3(cli, tmp_path, s3, bucket):
    url = f"s3://{bucket}/runs/r"
    (tmp_path / "spec.toml").write_text(spec_text(url, endpoint=s3.endpoint, max_steps=14))
    first = cli("run", "spec.toml", "--quiet")
    assert first.code == 0, first
    run_dir = tmp_path / "runs/r"
    assert not (run_dir / "checkpoints").exists()  # nothing local: it all went to S3
    assert checkpoint_names(s3.objects(bucket), "runs/r/") == ["step-000000007", "step-000000014"]

    for target in ("spec.toml", "runs/r"):  # the spec, or the run directory
        listing = cli("checkpoints", target)
        assert listing.code == 0, listing
        assert "step-000000014  step 14  epoch 1" in listing.out and "val/loss=" in listing.out
        assert f"{url}/step-000000007" in listing.out and " MB" in listing.out

    resumed = cli("run", "spec.toml", "--resume", "--quiet", "--set", "loop.max_steps=21")
    assert resumed.code == 0, resumed
    assert summary(run_dir)["steps"] == 21
    (tmp_path / "straight.toml").write_text(spec_text(f"s3://{bucket}/runs/straight", endpoint=s3.endpoint))
    straight = cli("run", "straight.toml", "--quiet", "--run-dir", "straight")
    assert straight.code == 0, straight
    assert final_weights(run_dir) == final_weights(tmp_path / "straight")


def test_resume_with_an_empty_bucket_starts_the_run_and_says_so(cli, tmp_path, s3, bucket):
    (tmp_path / "spec.toml").write_text(spec_text(f"s3://{bucket}/runs/r", endpoint=s3.endpoint))
    (tmp_path / "runs/r").mkdir(parents=True)
    result = cli("run", "spec.toml", "--resume", "--quiet")
    assert result.code == 0, result
    assert f"no committed checkpoint in s3://{bucket}/runs/r: starting the run from step 0" in result.err
    assert "Traceback" not in result.err
    assert checkpoint_names(s3.objects(bucket), "runs/r/")[-1] == "step-000000021"


def test_the_endpoint_can_come_from_the_environment(cli, tmp_path, s3, bucket):
    (tmp_path / "spec.toml").write_text(spec_text(f"s3://{bucket}/env", max_steps=7))
    result = cli("run", "spec.toml", "--quiet", env={"AWS_ENDPOINT_URL_S3": s3.endpoint})
    assert result.code == 0, result
    assert checkpoint_names(s3.objects(bucket), "env/") == ["step-000000007"]


def test_credentials_never_reach_the_run_directory_or_the_output(cli, tmp_path, s3, bucket):
    key, secret, token = "AKIDSPEC0000LEAKY", "spec-secret-do-not-write", "spec-token-do-not-write"
    credentials = f'key = "{key}"\nsecret = "{secret}"'
    (tmp_path / "spec.toml").write_text(spec_text(f"s3://{bucket}/runs/r", endpoint=s3.endpoint,
                                                  max_steps=7, filesystem=credentials))
    result = cli("run", "spec.toml", "--plain",
                 "--set", f'checkpoint.storage_options.filesystem.token="{token}"')
    assert result.code == 0, result
    run_dir = tmp_path / "runs/r"
    for file in [p for p in run_dir.rglob("*") if p.is_file()]:
        text = file.read_text(errors="replace")
        for value in (key, secret, token):
            assert value not in text, f"{value} written to {file}"
    for value in (key, secret, token):
        assert value not in result.out + result.err
    assert 'secret = "***"' in (run_dir / "spec.toml").read_text()
    # the recorded spec is still usable: redacted values count as unset (credentials from the environment)
    listing = cli("checkpoints", "runs/r")
    assert listing.code == 0 and "step-000000007" in listing.out, listing
    check = cli("check", "spec.toml")
    assert secret not in check.out + check.err


def test_asynchronous_saves_on_s3_write_the_same_checkpoints_as_synchronous_local_ones(tmp_path, s3, bucket):
    local = run_spec(spec_text(str(tmp_path / "local-ck"), max_steps=30, every=5), tmp_path / "sync")
    text = spec_text(f"s3://{bucket}/async", endpoint=s3.endpoint, max_steps=30, every=5)
    background = run_spec(text, tmp_path / "async", overrides=["checkpoint.asynchronous=true"])
    assert background.status == local.status == "completed"
    assert background.summary["metrics"] == local.summary["metrics"]
    objects = s3.objects(bucket, "async/")
    # the run waited for its last save: the final checkpoint is committed when it returns
    assert checkpoint_names(objects, "async/") == [f"step-{s:09d}" for s in range(5, 31, 5)]
    for key, data in objects.items():
        name, file = key.removeprefix("async/").split("/")
        if file not in ("MANIFEST.json", "loop.json"):  # loop.json and the manifest hold wall time
            assert data == (tmp_path / "local-ck" / name / file).read_bytes(), key
        if file == "MANIFEST.json":
            manifest = json.loads(data)
            assert manifest["step"] == int(name.split("-")[1])  # one step per checkpoint, never mixed


def test_memory_storage_runs_and_resumes_in_one_process(tmp_path):
    url = f"memory://engine-tests/{tmp_path.name}"
    text = spec_text(url, max_steps=14, keep_last=1)
    first = run_spec(text, tmp_path / "r")
    assert first.status == "completed"
    resumed = run_spec(text, tmp_path / "r", resume=True, overrides=["loop.max_steps=35"])
    assert resumed.status == "completed" and resumed.summary["steps"] == 35
    import fsspec

    fs = fsspec.filesystem("memory")
    kept = sorted(p.rsplit("/", 1)[-1] for p in fs.ls(f"/engine-tests/{tmp_path.name}", detail=False))
    # keep_last = 1 keeps the newest, and never the checkpoint this run resumed from
    assert kept == ["step-000000014", "step-000000035"]
    straight = run_spec(spec_text(f"{url}-straight", max_steps=35), tmp_path / "straight")
    assert final_weights(tmp_path / "r") == final_weights(tmp_path / "straight")
    assert straight.summary["metrics"] == resumed.summary["metrics"]
