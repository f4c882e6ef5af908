"""Property tests: generated secrets in generated files of each format never survive
redaction, and redaction of any 1 MB input finishes in bounded (linear) time."""

from __future__ import annotations

import base64
import random
import string
import time
from collections.abc import Callable
from dataclasses import dataclass

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from llmgenie.redaction import Redactor, is_secret_file

_ALNUM = string.ascii_letters + string.digits


@dataclass(frozen=True)
class Secrets:
    """One generated value of each kind, drawn from a seeded RNG so none is degenerate."""

    word: str  # a capitalised password such as "Winterfell"
    password: str
    token: str  # a provider token with a known prefix
    random_key: str  # 40 random base62 characters
    user: str

    @classmethod
    def from_seed(cls, seed: int) -> Secrets:
        rng = random.Random(seed)

        def pick(alphabet: str, n: int) -> str:
            return "".join(rng.choice(alphabet) for _ in range(n))

        word = rng.choice(string.ascii_uppercase) + pick(string.ascii_lowercase, rng.randint(7, 11))
        password = word + pick(string.digits, 2) + rng.choice("!#%*")
        token = rng.choice(
            [
                "ghp_" + pick(_ALNUM, 36),
                "AKIA" + pick(string.ascii_uppercase + string.digits, 16),
                "xoxb-" + pick(string.digits, 11) + "-" + pick(_ALNUM, 24),
                "sk-ant-api03-" + pick(_ALNUM, 40),
                "sk-proj-" + pick(_ALNUM, 24) + "T3BlbkFJ" + pick(_ALNUM, 20),
                "glpat-" + pick(_ALNUM, 20),
                "npm_" + pick(_ALNUM, 36),
            ]
        )
        random_key = pick(string.ascii_uppercase, 4) + pick(string.digits, 4) + pick(_ALNUM, 32)
        return cls(word, password, token, random_key, "svc" + pick(string.ascii_lowercase, 5))

    def values(self) -> list[str]:
        basic = _b64(f"{self.user}:{self.password}")  # docker and npm `auth`
        return [self.word, self.password, self.token, self.random_key, basic, *_split(self.token)]


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def _split(value: str) -> tuple[str, str]:
    cut = len(value) // 2
    return value[:cut], value[cut:]


# (file name, template): every format the redactor must understand; {…} are filled in.
FORMATS: dict[str, tuple[str, Callable[[Secrets], str]]] = {
    "compose": (
        "docker-compose.yml",
        lambda s: (
            "services:\n  db:\n    image: postgres:16\n    environment:\n"
            f"      POSTGRES_USER: {s.user}\n      POSTGRES_PASSWORD: {s.word}\n"
            f"      - API_TOKEN={s.token}\n"
        ),
    ),
    "yaml": ("config.yaml", lambda s: f"database:\n  user: {s.user}\n  password: {s.word}\n"),
    "docker_auth": (
        "registry-auth.json",
        lambda s: (
            '{"auths": {"https://index.docker.io/v1/": '
            f'{{"auth": "{_b64(s.user + ":" + s.password)}"}}}}}}\n'
        ),
    ),
    "split_literal": (
        "settings.py",
        lambda s: 'API_KEY = ("{}" "{}")\nclient = connect(token="{}" + "{}")\n'.format(
            *_split(s.token), *_split(s.token)
        ),
    ),
    "env_default": (
        "app.py",
        lambda s: (
            f'password = os.environ.get("DB_PASSWORD", "{s.password}")\n'
            f'key = os.getenv("STRIPE_SECRET", default="{s.random_key}")\n'
        ),
    ),
    "annotated": (
        "db.py",
        lambda s: (
            f'DB_PASSWORD: Final = "{s.word}"\n\n\n'
            f'def connect(host: str, password: str = "{s.password}") -> None:\n    pass\n'
        ),
    ),
    "pgpass": ("pgpass.txt", lambda s: f"db.internal:5432:app:{s.user}:{s.password}\n"),
    "netrc": (
        "netrc.txt",
        lambda s: (
            f"machine api.example.com login {s.user} password {s.password}\n"
            f"machine other.example.com\n  login {s.user}\n  password {s.word}\n"
        ),
    ),
    "npmrc": (
        "npmrc.txt",
        lambda s: (
            f"//registry.npmjs.org/:_authToken={s.token}\n_auth={_b64(s.user + ':' + s.password)}\n"
        ),
    ),
    "ini": ("app.ini", lambda s: f"[db]\nuser = {s.user}\npassword = {s.word}\n"),
    "dotenv_like": ("deploy.sh", lambda s: f"export DB_PASSWORD={s.password}\n"),
    "prose": ("NOTES.md", lambda s: f"CI uses {s.token}; the signing key is {s.random_key}.\n"),
    "url": ("urls.txt", lambda s: f"DATABASE_URL=postgres://{s.user}:{s.password}@db:5432/app\n"),
}
# Credentials files: withheld whole whatever their content.
SECRET_FILES = (
    ".env",
    ".env.production",
    ".netrc",
    ".npmrc",
    ".pgpass",
    "certs/server.pem",
    "tls/server.key",
    "kubeconfig",
    ".kube/config",
    ".docker/config.json",
)


def _leaked(text: str, secrets: Secrets) -> list[str]:
    return [v for v in secrets.values() if v in text]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 2**32), fmt=st.sampled_from(sorted(FORMATS)))
def test_generated_secrets_in_every_format_are_redacted(seed: int, fmt: str) -> None:
    secrets = Secrets.from_seed(seed)
    name, template = FORMATS[fmt]
    text = template(secrets)
    assert _leaked(text, secrets), "the generated file must hold its secrets"
    redactor = Redactor()
    assert _leaked(redactor.redact_file(name, text), secrets) == []
    assert _leaked(redactor.redact(text), secrets) == []  # no file name known: same result


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 2**32), name=st.sampled_from(SECRET_FILES))
def test_credentials_files_are_withheld_whole(seed: int, name: str) -> None:
    secrets = Secrets.from_seed(seed)
    text = f"SOMETHING={secrets.word}\n{secrets.user}\n"
    assert is_secret_file(name)
    out = Redactor().redact_file(name, text)
    assert _leaked(out, secrets) == [] and secrets.user not in out


# Pieces that make backtracking regexes explode when repeated: long identifier runs, key
# prefixes, separators, quotes, URL and PEM fragments.
_PIECES = st.sampled_from(
    [
        "a",
        "-",
        "_",
        ".",
        "Z9",
        "=",
        ":",
        " ",
        "\t",
        "\n",
        '"',
        "'",
        "+",
        "/",
        "@",
        "password",
        "token ",
        ": str ",
        "sk-",
        "ghp_",
        "AKIA",
        "eyJ",
        "://",
        "${",
        "{{",
        "-----BEGIN PRIVATE KEY-----",
        "machine ",
        "export ",
        "12| ",
        'getenv("X_SECRET", ',
    ]
)
MB = 1_000_000
BOUND_S = 5.0  # generous: measured inputs take well under a second (docs/security.md)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(unit=st.lists(_PIECES, min_size=1, max_size=8).map("".join))
def test_any_one_megabyte_input_is_redacted_in_bounded_time(unit: str) -> None:
    text = (unit * (MB // len(unit) + 1))[:MB]
    started = time.perf_counter()
    Redactor().redact(text)
    assert time.perf_counter() - started < BOUND_S, f"slow on {unit!r} repeated"


def test_the_inputs_that_froze_the_old_redactor_are_fast() -> None:
    rng = random.Random(7)
    b64url = "".join(rng.choice(_ALNUM + "-_") for _ in range(100_000))
    for text in (b64url, "a-" * 20_000, "password: " + "a-" * 20_000, "x" * MB):
        started = time.perf_counter()
        Redactor().redact(text)
        assert time.perf_counter() - started < BOUND_S
