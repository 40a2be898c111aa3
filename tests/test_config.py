from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from interviewer.cli import app
from interviewer.config import JudgeSpec, config_file, load_settings, mask
from interviewer.errors import ConfigError

runner = CliRunner()


def test_defaults_are_offline() -> None:
    settings = load_settings()
    assert settings.judge == "offline"
    assert settings.interviewer == "scripted"
    assert settings.openai_api_key is None


def test_env_overrides_toml(monkeypatch: pytest.MonkeyPatch) -> None:
    path = config_file()
    path.parent.mkdir(parents=True)
    path.write_text('judge = "anthropic:claude-x"\nlang = "en"\n', "utf-8")
    assert load_settings().judge == "anthropic:claude-x"
    monkeypatch.setenv("INTERVIEWER_JUDGE", "openai:gpt-x")
    settings = load_settings()
    assert (settings.judge, settings.lang) == ("openai:gpt-x", "en")


def test_provider_variables_are_read(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-1234567890")
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:9/v1")
    settings = load_settings()
    assert settings.openai_api_key is not None
    assert settings.openai_api_key.get_secret_value() == "sk-test-1234567890"
    assert settings.openai_base_url == "http://127.0.0.1:9/v1"


def test_config_show_masks_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-secret-abcdefgh")
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-secret-zyxw")
    result = runner.invoke(app, ["config", "show", "--json"])
    assert result.exit_code == 0, result.output
    assert "secret" not in result.output
    data = json.loads(result.output)
    assert data["openai_api_key"] == "sk-…efgh"
    assert data["anthropic_api_key"] == "sk-…zyxw"


def test_broken_config_file_is_a_clear_error() -> None:
    path = config_file()
    path.parent.mkdir(parents=True)
    path.write_text("questions = -3\n", "utf-8")
    with pytest.raises(ConfigError) as info:
        load_settings()
    assert str(path) in info.value.message
    result = runner.invoke(app, ["config", "show"])
    assert result.exit_code == 2
    assert "Traceback" not in result.output


def test_mask() -> None:
    assert mask("") == "(not set)"
    assert mask("short") == "****"
    assert mask("sk-1234567890") == "sk-…7890"


@pytest.mark.parametrize(
    ("spec", "provider", "model"),
    [
        ("offline", "offline", ""),
        ("openai:gpt-4o-mini", "openai", "gpt-4o-mini"),
        ("anthropic:claude-sonnet-4", "anthropic", "claude-sonnet-4"),
        ("compatible:qwen2.5:7b", "compatible", "qwen2.5:7b"),
    ],
)
def test_judge_spec_parse(spec: str, provider: str, model: str) -> None:
    parsed = JudgeSpec.parse(spec)
    assert (parsed.provider, parsed.model) == (provider, model)
    assert str(parsed) == spec


@pytest.mark.parametrize("spec", ["", "gpt-4", "openai:", "mistral:large"])
def test_bad_judge_spec(spec: str) -> None:
    with pytest.raises(ConfigError, match="is not one of"):
        JudgeSpec.parse(spec)


def test_tests_never_touch_the_real_config(tmp_path: Path) -> None:
    assert config_file().is_relative_to(tmp_path)


def test_command_line_overrides_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("INTERVIEWER_JUDGE", "openai:gpt-x")
    assert load_settings(judge="offline", lang=None).judge == "offline"


def test_database_url_is_checked_and_its_password_masked(monkeypatch: pytest.MonkeyPatch) -> None:
    assert load_settings().database_url is None  # files and SQLite by default
    monkeypatch.setenv("INTERVIEWER_DATABASE_URL", "postgresql://me:s3cret@db:5432/iv")
    settings = load_settings()
    assert settings.database_url == "postgresql://me:s3cret@db:5432/iv"
    assert settings.masked()["database_url"] == "postgresql://me:****@db:5432/iv"
    monkeypatch.setenv("INTERVIEWER_DATABASE_URL", "mysql://me:s3cret@db/iv")
    with pytest.raises(ConfigError, match="not a PostgreSQL URL") as caught:
        load_settings()
    assert "s3cret" not in str(caught.value)
