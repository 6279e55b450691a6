"""Credentials in storage options and URLs never reach the run directory, the bucket's mirror of
it, or the output, also when the storage fails and a library quotes what it was given."""

from __future__ import annotations

from engine_fsspec.testing import free_port
from fsspec_helpers import spec_text, summary

from engine.testing.secrets import PlantedSecrets, write_leaky_plugin


def _spec(secrets: PlantedSecrets, url: str, endpoint: str, filesystem: str = "", mirror: bool = False) -> str:
    text = spec_text(url, endpoint=endpoint, max_steps=6, every=3, filesystem=filesystem)
    text = text.replace('[run]\nname = "r"', '[run]\nname = "r"\nplugins = ["leaky"]')
    if mirror:
        text = text.replace("[checkpoint.storage_options]\n", "[checkpoint.storage_options]\nmirror_run_dir = true\n")
    return text + "\n" + secrets.leaky_tracker()


def test_a_run_on_s3_with_credentials_in_its_options_leaks_nothing(cli, tmp_path, s3, bucket):
    secrets = PlantedSecrets()
    write_leaky_plugin(tmp_path)
    # moto accepts any credentials: these are the spec's, planted
    filesystem = (f'key = "{secrets["key"]}"\nsecret = "{secrets["secret"]}"\n'
                  f'config_kwargs = {{ signature_version = "s3v4" }}')
    (tmp_path / "spec.toml").write_text(_spec(secrets, f"s3://{bucket}/runs/r", s3.endpoint, filesystem,
                                              mirror=True))
    result = cli("run", "spec.toml", "-q", *secrets.overrides(),
                 "--set", f'checkpoint.storage_options.filesystem.token="{secrets["token"]}"')
    assert result.code == 0, result
    objects = s3.objects(bucket)
    assert "runs/r/run/spec.toml" in objects, sorted(objects)  # the run directory's mirror
    stored = [f"{key}\n{data.decode(errors='replace')}" for key, data in objects.items()]
    assert secrets.leaks(files=[tmp_path / "runs"], texts=[result.out, result.err, *stored]) == []
    recorded = (tmp_path / "runs" / "r" / "spec.toml").read_text()
    assert 'secret = "***"' in recorded and 'signature_version = "s3v4"' in recorded, recorded


def test_an_unreachable_endpoint_with_credentials_in_the_urls_leaks_nothing(cli, tmp_path):
    secrets = PlantedSecrets()
    write_leaky_plugin(tmp_path)
    password = secrets.url_password("storage URL password")
    endpoint = f"http://EPUSER:{secrets.url_password('endpoint password')}@127.0.0.1:{free_port()}"
    filesystem = f'key = "{secrets["key"]}"\nsecret = "{secrets["secret"]}"'
    url = f"s3://AKIDUSER:{password}@bucket/runs/r"
    (tmp_path / "spec.toml").write_text(_spec(secrets, url, endpoint, filesystem))
    for command in (["check", "spec.toml"], ["run", "spec.toml", "-q"], ["run", "spec.toml", "--resume", "-q"]):
        result = cli(*command, *secrets.overrides())
        assert result.code != 0, result
        assert result.error_lines, result
        assert secrets.leaks(files=[tmp_path / "runs"], texts=[result.out, result.err]) == [], command
        if (tmp_path / "runs" / "r" / "summary.json").exists():
            assert summary(tmp_path / "runs" / "r")["status"] == "failed"
