"""ServiceSettings: defaults, environment variables, overrides, refusal of bad values."""

from __future__ import annotations

from dataclasses import FrozenInstanceError
from pathlib import Path

import pytest

from service import ServiceSettings


def test_defaults_listen_on_loopback() -> None:
    settings = ServiceSettings(kb_dir=Path("some/kb"))
    assert settings.kb_dir == Path("some/kb")
    assert (settings.host, settings.port) == ("127.0.0.1", 8000)
    assert settings.cors_origins == ()
    assert settings.docs is True


def test_settings_are_frozen() -> None:
    with pytest.raises(FrozenInstanceError):
        ServiceSettings(kb_dir=Path("kb")).port = 9000  # type: ignore[misc]


def test_from_env_reads_every_variable() -> None:
    settings = ServiceSettings.from_env({
        "POLICYKB_KB_DIR": "/data/kb", "POLICYKB_HOST": "0.0.0.0", "POLICYKB_PORT": "8123",
        "POLICYKB_CORS_ORIGINS": "https://a.gov.cn, http://127.0.0.1:8080,", "POLICYKB_MAX_BODY_BYTES": "65536",
        "POLICYKB_LIMIT_CONCURRENCY": "0", "POLICYKB_DOCS": "off", "POLICYKB_LOG_LEVEL": "WARNING",
        "POLICYKB_REQUEST_HEAD_SECONDS": "2.5", "POLICYKB_RATE_LIMIT": "0", "POLICYKB_KEY_RATE_LIMIT": "120",
        "POLICYKB_TRUSTED_PROXIES": "10.0.0.0/8, ::1", "UNRELATED": "x",
    })
    assert settings == ServiceSettings(kb_dir=Path("/data/kb"), host="0.0.0.0", port=8123,
                                       cors_origins=("https://a.gov.cn", "http://127.0.0.1:8080"),
                                       max_body_bytes=65536, limit_concurrency=None, docs=False,
                                       log_level="warning", request_head_seconds=2.5, rate_limit=None,
                                       key_rate_limit=120, trusted_proxies=("10.0.0.0/8", "::1"))


def test_overrides_win_over_the_environment() -> None:
    settings = ServiceSettings.from_env({"POLICYKB_KB_DIR": "/env/kb", "POLICYKB_PORT": "9000"},
                                        kb_dir="/flag/kb", port=None)
    assert settings.kb_dir == Path("/flag/kb")
    assert settings.port == 9000  # None means "not given", so the environment stands


def test_from_env_reads_os_environ_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("POLICYKB_KB_DIR", "/from/os")
    monkeypatch.setenv("POLICYKB_PORT", "8765")
    settings = ServiceSettings.from_env()
    assert (settings.kb_dir, settings.port) == (Path("/from/os"), 8765)


def test_from_env_needs_a_knowledge_base() -> None:
    with pytest.raises(ValueError, match="POLICYKB_KB_DIR"):
        ServiceSettings.from_env({})


@pytest.mark.parametrize(("environ", "message"), [
    ({"POLICYKB_PORT": "http"}, "POLICYKB_PORT must be an integer"),
    ({"POLICYKB_PORT": "70000"}, "port"),
    ({"POLICYKB_DOCS": "maybe"}, "POLICYKB_DOCS"),
    ({"POLICYKB_CORS_ORIGINS": "www.example.com"}, "CORS origin"),
    ({"POLICYKB_MAX_BODY_BYTES": "10"}, "max_body_bytes"),
    ({"POLICYKB_LIMIT_CONCURRENCY": "-3"}, "limit_concurrency"),
    ({"POLICYKB_LOG_LEVEL": "loud"}, "log_level"),
    ({"POLICYKB_RATE_LIMIT": "-1"}, "rate_limit"),
    ({"POLICYKB_KEY_RATE_LIMIT": "lots"}, "POLICYKB_KEY_RATE_LIMIT must be an integer"),
    ({"POLICYKB_TRUSTED_PROXIES": "proxy.example.com"}, "not an IP address or network"),
    ({"POLICYKB_REQUEST_HEAD_SECONDS": "0"}, "request_head_seconds"),
    ({"POLICYKB_REQUEST_HEAD_SECONDS": "soon"}, "POLICYKB_REQUEST_HEAD_SECONDS must be a number"),
])
def test_bad_values_are_refused_with_a_clear_message(environ: dict[str, str], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        ServiceSettings.from_env({"POLICYKB_KB_DIR": "kb", **environ})


def test_with_changes_validates_too() -> None:
    settings = ServiceSettings(kb_dir=Path("kb"))
    assert settings.with_changes(port=0).port == 0
    with pytest.raises(ValueError):
        settings.with_changes(port=-1)
    with pytest.raises(ValueError):
        settings.with_changes(port=True)
