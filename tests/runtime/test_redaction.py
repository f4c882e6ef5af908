"""Secrets never reach a model; ordinary code passes through untouched."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from llmgenie.redaction import Redactor, placeholder

CORPUS = Path(__file__).parent / "secrets_corpus"
CLEAN = Path(__file__).parent / "clean_corpus"
SECRETS: dict[str, str] = json.loads((CORPUS / "SECRETS.json").read_text())


def corpus_files() -> list[Path]:
    return sorted(p for p in CORPUS.rglob("*") if p.is_file() and p.name != "SECRETS.json")


def _leaks(text: str) -> list[str]:
    return [name for name, value in SECRETS.items() if value in text]


@pytest.mark.parametrize("path", corpus_files(), ids=lambda p: p.name)
def test_every_secret_in_the_corpus_is_redacted(path: Path) -> None:
    text = path.read_text()
    redacted, kinds = Redactor().redact_with_report(text)
    assert _leaks(redacted) == []
    assert kinds, "the file holds secrets, so something must be reported"
    assert "«REDACTED:" in redacted


def test_corpus_really_contains_the_secrets() -> None:
    everything = "\n".join(p.read_text() for p in corpus_files())
    assert set(_leaks(everything)) == set(SECRETS)


def test_placeholders_name_the_kind_and_keep_structure() -> None:
    redacted = Redactor().redact((CORPUS / ".env").read_text())
    assert f"AWS_ACCESS_KEY_ID={placeholder('aws_access_key')}" in redacted
    assert f"postgres://app:{placeholder('connection_password')}@db.internal:5432/app" in redacted
    assert "DEBUG=true" in redacted and "PORT=8080" in redacted


def test_pem_block_is_removed_whole() -> None:
    redacted = Redactor().redact((CORPUS / "id_rsa").read_text())
    assert redacted.strip() == placeholder("private_key")


def test_redaction_is_idempotent() -> None:
    redactor = Redactor()
    once = "\n".join(redactor.redact(p.read_text()) for p in corpus_files())
    assert redactor.redact(once) == once


@pytest.mark.parametrize("path", sorted(CLEAN.iterdir()), ids=lambda p: p.name)
def test_ordinary_code_and_config_are_not_mangled(path: Path) -> None:
    text = path.read_text()
    redacted, kinds = Redactor().redact_with_report(text)
    assert kinds == []
    assert redacted == text


@pytest.mark.parametrize(
    "line",
    [
        "max_tokens = 4096",
        "def check_password(password: str) -> bool:",
        'password = request.form["password"]',
        "token = self._next_token()",
        'secret = os.environ.get("SECRET", "")',
        "password: ${DB_PASSWORD}",
        'sha = "4f2a9c1d8e7b6a5f4e3d2c1b0a9f8e7d6c5b4a3f"',
        "The bearer token is sent in the Authorization header.",
        "    password=password,",
    ],
)
def test_false_positive_lines(line: str) -> None:
    assert Redactor().redact(line) == line


def test_known_literal_secrets_are_always_replaced() -> None:
    redactor = Redactor(known_secrets=["plain-looking-value-123"])
    assert "plain-looking-value-123" not in redactor.redact("x = plain-looking-value-123 y")


def test_messages_including_tool_arguments_are_redacted() -> None:
    aws = SECRETS["aws_id"]
    messages = [
        {"role": "user", "content": [{"type": "text", "text": f"key {aws}"}]},
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [{"function": {"name": "f", "arguments": json.dumps({"k": aws})}}],
        },
    ]
    assert aws not in json.dumps(Redactor().redact_messages(messages))


def test_numbered_and_diff_lines_are_redacted_too() -> None:
    password = SECRETS["db_password"]
    numbered = f"   12| DB_PASSWORD={password}\n+DB_PASSWORD={password}\n"
    assert password not in Redactor().redact(numbered)


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        ("database:\n  password: Winterfell\n", "Winterfell"),
        ("    environment:\n      POSTGRES_PASSWORD: Winterfell\n", "Winterfell"),
        ('{"auths": {"ghcr.io": {"auth": "Ym9iOldpbnRlcmZlbGwyMDI0IQ=="}}}', "Ym9iOldpbnRlcmZlbGw"),
        ('KEY = ("ghp_R4nD0mG1tHubT0k3n" "V4lu3Xy9Zq8Wp7Lk6Mn5B")', "V4lu3Xy9Zq8Wp7Lk6Mn5B"),
        ('pw = os.environ.get("DB_PASSWORD", "default-secret-99")', "default-secret-99"),
        ("db.internal:5432:app:app:Winterfell99\n", "Winterfell99"),
        ("machine api.example.com login bob password Winterfell99\n", "Winterfell99"),
        ("_auth=Ym9iOldpbnRlcmZlbGwyMDI0IQ==\n", "Ym9iOldpbnRlcmZlbGw"),
        ("//registry.npmjs.org/:_authToken=0f9e8d7c-6b5a-4f3e-2d1c-0b9a8f7e6d5c\n", "0f9e8d7c"),
        ('def connect(host: str, password: str = "Winterfell99") -> None:', "Winterfell99"),
        ('DB_PASSWORD: Final = "Winterfell99"', "Winterfell99"),
        ('const apiKey: string = "Winterfell99";', "Winterfell99"),
        ('let db_password: &str = "Winterfell99";', "Winterfell99"),
    ],
)
def test_forms_the_old_rules_missed(text: str, secret: str) -> None:
    assert secret not in Redactor().redact(text)


@pytest.mark.parametrize(
    "line",
    [
        '"integrity": "sha512-Q7xv2Lk9Pm3Rt8Wz1Yb4Nc6Hd0Fg5Js2Ae7Ki9Ou3TBlbkFJx8Vq2Mw5Zr7Lp1Nb=="',
        "test_handles_requests_with_MixedCase_names_in_v2_api = None",
        'request_id = "123e4567-e89b-12d3-a456-426614174000"',
        "    api_key: SecretStr",
        "    token: Optional[str] = None",
        '    token_type: str = "bearer"',
        '    password_field: str = "password"',
        '    api_key: str = "${API_KEY}"',
        'DEBUG = os.getenv("DEBUG", "false")',
        'key = os.environ.get("API_KEY", "")',
        "auth: jwt",
        "x = compute(a, b)  # 'quoted' \"text\" here",
    ],
)
def test_new_detectors_leave_ordinary_code_alone(line: str) -> None:
    assert Redactor().redact(line) == line
