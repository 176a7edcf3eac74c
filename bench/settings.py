"""The benchmark server's settings: the production settings, read from the environment
like any deployment's (aimap.settings), with one addition: the floor page (bench/urls.py).
Never used outside the benchmark."""

from aimap.settings import *  # noqa: F403

ROOT_URLCONF = "bench.urls"
