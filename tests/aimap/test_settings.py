"""Configuration comes from the environment; a bad value stops start-up with one line."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from aimap.env import ConfigError, env_bool, env_choice, env_int, env_list, env_url

ROOT = Path(__file__).resolve().parents[2]


def run_check(**env):
    """`manage.py check` in a fresh process with exactly these variables set."""
    base = {key: value for key, value in os.environ.items() if key in {"PATH", "HOME", "LANG"}}
    return subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


class TestHelpers:
    def test_it_reads_booleans_in_common_spellings(self, monkeypatch):
        for raw, expected in [("1", True), ("yes", True), ("On", True), ("0", False), ("false", False)]:
            monkeypatch.setenv("FLAG", raw)
            assert env_bool("FLAG") is expected

    def test_it_refuses_a_boolean_it_cannot_read(self, monkeypatch):
        monkeypatch.setenv("FLAG", "maybe")
        with pytest.raises(ConfigError, match="FLAG"):
            env_bool("FLAG")

    def test_it_refuses_a_number_that_is_not_one(self, monkeypatch):
        monkeypatch.setenv("PORTISH", "80a")
        with pytest.raises(ConfigError, match="PORTISH must be a whole number"):
            env_int("PORTISH", 1)

    def test_it_refuses_a_number_out_of_range(self, monkeypatch):
        monkeypatch.setenv("COUNT", "0")
        with pytest.raises(ConfigError, match="COUNT must be at least 1"):
            env_int("COUNT", 5, minimum=1)

    def test_it_splits_lists_and_drops_empty_items(self, monkeypatch):
        monkeypatch.setenv("HOSTS", " a.example, ,b.example,")
        assert env_list("HOSTS") == ["a.example", "b.example"]

    def test_it_refuses_an_unknown_choice(self, monkeypatch):
        monkeypatch.setenv("KIND", "ftp")
        with pytest.raises(ConfigError, match="KIND must be one of local, s3"):
            env_choice("KIND", ("local", "s3"), "local")

    def test_it_refuses_a_url_with_the_wrong_scheme(self, monkeypatch):
        monkeypatch.setenv("SOME_URL", "mysql://db/x")
        with pytest.raises(ConfigError, match="SOME_URL must be a URL starting with postgres://"):
            env_url("SOME_URL", schemes=("postgres",))


class TestStartUp:
    def test_it_starts_with_development_defaults(self):
        result = run_check(DEBUG="1")
        assert result.returncode == 0, result.stderr
        assert "no issues" in result.stdout

    @pytest.mark.parametrize(
        ("env", "variable"),
        [
            ({"DEBUG": "0"}, "SECRET_KEY"),
            ({"DEBUG": "perhaps"}, "DEBUG"),
            ({"DEBUG": "1", "DATABASE_URL": "mysql://localhost/aimap"}, "DATABASE_URL"),
            ({"DEBUG": "1", "DATABASE_URL": "postgres://localhost"}, "DATABASE_URL"),
            ({"DEBUG": "1", "REDIS_URL": "http://localhost:6379"}, "REDIS_URL"),
            ({"DEBUG": "1", "EMAIL_HOST": "smtp.example.com", "EMAIL_PORT": "smtp"}, "EMAIL_PORT"),
            ({"DEBUG": "1", "MEDIA_STORAGE": "s3"}, "S3_BUCKET"),
            ({"DEBUG": "1", "PROJECTS_PER_PAGE": "0"}, "PROJECTS_PER_PAGE"),
            ({"DEBUG": "1", "STAFF_REQUIRE_MFA": "sometimes"}, "STAFF_REQUIRE_MFA"),
        ],
    )
    def test_it_stops_with_one_line_naming_the_variable(self, env, variable):
        result = run_check(**env)
        assert result.returncode == 1
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1, result.stderr
        assert lines[0].startswith("aimap: configuration error: ")
        assert variable in lines[0]
        assert "Traceback" not in result.stderr


@pytest.mark.django_db
def test_postgresql_connections_do_not_jit_compile_queries():
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("a PostgreSQL setting")
    with connection.cursor() as cursor:
        cursor.execute("SHOW jit")
        assert cursor.fetchone()[0] == "off"
