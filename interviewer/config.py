"""Settings from the environment and a TOML file; judge spec parsing.

Precedence, highest first: command-line options, `INTERVIEWER_*` variables (and the
providers' own `OPENAI_API_KEY`, `ANTHROPIC_API_KEY`, `OPENAI_BASE_URL`), the TOML file
at `$XDG_CONFIG_HOME/interviewer/config.toml`, then the defaults below.

Keys go only where they belong: `OPENAI_API_KEY` to api.openai.com, `ANTHROPIC_API_KEY`
to Anthropic's API (or `ANTHROPIC_BASE_URL`), and a `compatible:` server gets
`INTERVIEWER_COMPATIBLE_API_KEY` or the variable `--api-key-env` names. Only
`OPENAI_BASE_URL` (or `INTERVIEWER_OPENAI_BASE_URL`, `--base-url`) sets the endpoint of a
`compatible:` judge; a generic `BASE_URL` variable means nothing here.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, BaseModel, Field, SecretStr, field_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from interviewer.errors import ConfigError

Provider = Literal["offline", "openai", "anthropic", "compatible"]

_URL = re.compile(r"^https?://[^\s/?#@]+(/[^\s]*)?$", re.IGNORECASE)
_DATABASE_URL = re.compile(r"^postgres(ql)?://\S+$", re.IGNORECASE)
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
# Model names as providers spell them: gpt-4o-mini, claude-3-5-haiku-latest, qwen2.5:7b,
# Qwen/Qwen2.5-7B-Instruct, models/gemini-pro. No spaces, quotes or control characters.
_MODEL = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:/@+\-]{0,199}$")


def config_dir() -> Path:
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "interviewer"


def config_file() -> Path:
    return Path(os.environ.get("INTERVIEWER_CONFIG_FILE") or config_dir() / "config.toml")


def cache_dir() -> Path:
    """Where derived files live (parsed tokenizer, pruned dictionary); safe to delete."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "interviewer"


def data_dir() -> Path:
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "interviewer"


def _default_transcripts(data: dict[str, object]) -> Path:
    """transcripts/ in the data folder: one home for a user's interviews, the same from any
    working directory (a relative `data_dir` is made absolute here for that reason)."""
    base = data.get("data_dir")
    folder = Path(base) if isinstance(base, (str, Path)) else data_dir()
    return folder.expanduser().absolute() / "transcripts"


class Settings(BaseSettings):
    """Effective settings. Every field can be set as INTERVIEWER_<FIELD> or in config.toml."""

    model_config = SettingsConfigDict(
        env_prefix="INTERVIEWER_",
        extra="ignore",
        populate_by_name=True,
        # Errors never echo a value: it may hold a password (database_url) or a key. Each
        # validator names what is wrong, masked.
        hide_input_in_errors=True,
    )

    judge: str = Field(
        "offline",
        description="Judge spec: offline, openai:MODEL, anthropic:MODEL or compatible:MODEL.",
    )
    interviewer: str = Field(
        "scripted",
        description="Who asks: scripted (offline templates) or a model spec like the judge's.",
    )
    lang: Literal["zh", "en"] = Field("zh", description="Interview language.")
    persona: str = Field("senior", description="Interviewer persona name.")
    mode: Literal["practice", "exam"] = Field("practice", description="Show grades as you go?")
    questions: int = Field(5, ge=1, le=50, description="Questions per interview.")
    bank_dir: Path | None = Field(None, description="Question bank folder (default: built-in).")
    data_dir: Path = Field(
        default_factory=data_dir,
        description="Your data: interviews (checkpoints and transcripts), the grade cache.",
    )
    transcripts_dir: Path = Field(
        default_factory=lambda data: _default_transcripts(data),
        description="Where interviews are saved (default: transcripts/ in data_dir, wherever "
        "the command runs).",
    )
    database_url: str | None = Field(
        None,
        description="postgresql://USER@HOST:PORT/DB: keep every interview's state there "
        "(checkpoints, transcripts, the grade cache, review items), shared by any number of "
        "processes and servers. Unset: SQLite and files in data_dir (the default).",
    )
    timeout: float = Field(30.0, gt=0, description="Seconds per model request.")
    deadline: float = Field(
        60.0, gt=0, description="Seconds for one LLM grade, every request and retry included."
    )
    max_retries: int = Field(4, ge=0, le=10, description="Retries on 429, 5xx and timeouts.")
    breaker_timeouts: int = Field(
        3,
        ge=1,
        le=1000,
        description="After this many timeouts or connection failures in a row, LLM grades "
        "fall back to the offline judge at once (flagged judge_fallback) for a minute.",
    )

    openai_api_key: SecretStr | None = Field(
        None, validation_alias=AliasChoices("INTERVIEWER_OPENAI_API_KEY", "OPENAI_API_KEY")
    )
    anthropic_api_key: SecretStr | None = Field(
        None, validation_alias=AliasChoices("INTERVIEWER_ANTHROPIC_API_KEY", "ANTHROPIC_API_KEY")
    )
    anthropic_base_url: str | None = Field(
        None,
        validation_alias=AliasChoices("INTERVIEWER_ANTHROPIC_BASE_URL", "ANTHROPIC_BASE_URL"),
        description="Base URL of the Anthropic API (a proxy or gateway); default: Anthropic's.",
    )
    # No bare `base_url` alias: pydantic-settings reads aliases as variable names, and a
    # generic BASE_URL (set by Vite, CI systems...) must not redirect anything.
    openai_base_url: str | None = Field(
        None,
        validation_alias=AliasChoices(
            "INTERVIEWER_OPENAI_BASE_URL", "OPENAI_BASE_URL", "openai_base_url"
        ),
        description="Base URL of an OpenAI-compatible server (for compatible:MODEL).",
    )
    compatible_api_key: SecretStr | None = Field(
        None,
        validation_alias=AliasChoices("INTERVIEWER_COMPATIBLE_API_KEY", "compatible_api_key"),
        description="Key for a compatible:MODEL server (never OPENAI_API_KEY, unless the "
        "server is api.openai.com).",
    )
    api_key_env: str | None = Field(
        None,
        description="Name of the environment variable that holds the key for "
        "compatible:MODEL (instead of INTERVIEWER_COMPATIBLE_API_KEY).",
    )

    @field_validator("openai_base_url", "anthropic_base_url")
    @classmethod
    def _url(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        value = value.strip()
        if not _URL.match(value):
            raise ValueError(f"{value!r} is not an http(s) URL such as http://localhost:11434/v1")
        return value

    @field_validator("database_url")
    @classmethod
    def _database_url(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        value = value.strip()
        if not _DATABASE_URL.match(value):
            raise ValueError(
                f"{mask_url(value)!r} is not a PostgreSQL URL such as "
                "postgresql://interviewer@127.0.0.1:5432/interviewer"
            )
        return value

    @field_validator("api_key_env")
    @classmethod
    def _env_name(cls, value: str | None) -> str | None:
        if value is not None and not _ENV_NAME.match(value):
            raise ValueError(f"{value!r} is not an environment variable name (like MY_API_KEY)")
        return value

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (
            init_settings,
            env_settings,
            TomlConfigSettingsSource(settings_cls, toml_file=config_file()),
        )

    def masked(self) -> dict[str, object]:
        """The settings as plain data, with keys shown as `sk-…abcd` or `(not set)`."""
        out: dict[str, object] = {}
        for name in type(self).model_fields:
            value = getattr(self, name)
            if isinstance(value, SecretStr):
                out[name] = mask(value.get_secret_value())
            elif name.endswith("api_key"):
                out[name] = "(not set)"
            elif name == "database_url" and value:
                out[name] = mask_url(value)
            else:
                out[name] = str(value) if isinstance(value, Path) else value
        return out


def mask(secret: str) -> str:
    if not secret:
        return "(not set)"
    if len(secret) <= 8:
        return "****"
    return f"{secret[:3]}…{secret[-4:]}"


def mask_url(url: str) -> str:
    """A database URL with its password hidden: postgresql://me:****@host/db."""
    return re.sub(r"^([^:/]+://[^:/@]+):[^@]*@", r"\1:****@", url)


def load_settings(**overrides: object) -> Settings:
    """Read settings; a broken config file is a ConfigError naming the file."""
    clean = {k: v for k, v in overrides.items() if v is not None}
    try:
        return Settings.model_validate(clean)
    except ValueError as exc:
        raise ConfigError(
            f"invalid settings (from {config_file()} or INTERVIEWER_* variables): {exc}",
            hint="Fix the value, or run `interviewer config show` to see what is in effect.",
        ) from None


class JudgeSpec(BaseModel):
    """A parsed judge spec such as `openai:gpt-4o-mini` or `offline`."""

    provider: Provider
    model: str = ""
    # cascade:PROVIDER:MODEL: the offline judge first, the model only for uncertain grades
    cascade: bool = False

    def __str__(self) -> str:
        if self.provider == "offline":
            return "offline"
        return f"{'cascade:' if self.cascade else ''}{self.provider}:{self.model}"

    @property
    def model_spec(self) -> JudgeSpec:
        """The model alone (without `cascade:`)."""
        return self.model_copy(update={"cascade": False})

    @classmethod
    def parse(cls, spec: str) -> JudgeSpec:
        spec = spec.strip()
        if spec == "offline":
            return cls(provider="offline")
        if spec.startswith("cascade:"):
            inner = cls.parse(spec.removeprefix("cascade:"))
            if inner.provider == "offline" or inner.cascade:
                raise ConfigError(
                    f"judge spec {spec!r}: a cascade sends uncertain answers to a model, so it "
                    "needs one after cascade:",
                    hint="Example: --judge cascade:openai:gpt-4o-mini",
                )
            return inner.model_copy(update={"cascade": True})
        provider, _, model = spec.partition(":")
        if provider not in ("openai", "anthropic", "compatible") or not model:
            raise ConfigError(
                f"judge spec {spec!r} is not one of: offline, openai:MODEL, anthropic:MODEL, "
                "compatible:MODEL, cascade:PROVIDER:MODEL",
                hint="Example: --judge openai:gpt-4o-mini, or --judge compatible:qwen2.5 "
                "--base-url http://localhost:11434/v1",
            )
        model = model.strip()
        if not _MODEL.match(model):
            raise ConfigError(
                f"judge spec {spec!r}: {model!r} is not a model name (letters, digits and "
                ". _ : / @ + -, no spaces, at most 200 characters)",
                hint="Example: --judge openai:gpt-4o-mini, --judge compatible:qwen2.5:7b",
            )
        return cls.model_validate({"provider": provider, "model": model})
