"""The plugin as a user meets it: discovery, a light entry point, and one-line errors for bad URLs."""

from __future__ import annotations

import subprocess
import sys

from fsspec_helpers import spec_text


def test_engine_plugins_lists_the_storage(cli):
    result = cli("plugins")
    assert result.code == 0, result
    assert "storage:fsspec" in result.out


def test_the_entry_point_imports_neither_fsspec_nor_s3fs():
    code = ("import sys, engine_fsspec.plugin; "
            "print(sorted(m for m in ('fsspec', 's3fs', 'botocore') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_check_tries_an_s3_url_and_leaves_nothing_there(cli, tmp_path, s3, bucket):
    (tmp_path / "spec.toml").write_text(spec_text(f"s3://{bucket}/runs/r", endpoint=s3.endpoint))
    result = cli("check", "spec.toml")
    assert result.code == 0, result
    assert s3.objects(bucket) == {}
    (tmp_path / "spec.toml").write_text(spec_text("s3://some-bucket/runs/r", endpoint="http://127.0.0.1:1"))
    unreachable = cli("check", "spec.toml")
    assert unreachable.code == 1, unreachable  # the storage, not the spec: not a usage error
    assert len(unreachable.error_lines) == 1 and "s3://some-bucket/runs/r" in unreachable.err, unreachable


def test_unknown_protocol_is_one_line_at_check_and_run(cli, tmp_path):
    (tmp_path / "spec.toml").write_text(spec_text("nosuchfs://bucket/runs"))
    for command in ("check", "run"):
        result = cli(command, "spec.toml")
        assert result.code == 2, result
        assert len(result.error_lines) == 1, result
        assert "checkpoint.storage" in result.err and "nosuchfs://" in result.err and "s3://" in result.err
        assert "Traceback" not in result.err
    assert not (tmp_path / "runs").exists()


def test_a_missing_filesystem_package_names_the_extra_to_install(cli, tmp_path):
    # gcsfs is not installed in this environment: the user is told which extra brings it
    (tmp_path / "spec.toml").write_text(spec_text("gs://bucket/runs"))
    for command in ("check", "run"):
        result = cli(command, "spec.toml")
        assert result.code == 2, result
        assert "gs:// URLs need gcsfs" in result.err and "engine-fsspec[gcs]" in result.err, result
        assert "Traceback" not in result.err


def test_a_url_without_a_bucket_is_refused(cli, tmp_path):
    (tmp_path / "spec.toml").write_text(spec_text("s3://"))
    result = cli("check", "spec.toml")
    assert result.code == 2, result
    assert "names no bucket" in result.err


def test_a_misspelt_storage_option_lists_the_valid_ones(cli, tmp_path):
    (tmp_path / "spec.toml").write_text(spec_text("memory://x/r").replace("attempts = 3", "atempts = 3"))
    result = cli("check", "spec.toml")
    assert result.code == 2, result
    assert "did you mean 'attempts'" in result.err and "filesystem" in result.err
