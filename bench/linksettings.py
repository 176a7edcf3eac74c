"""The link-check benchmark's settings (bench/linkchecks.py): the benchmark's settings with
the checker allowed to reach the loopback, where the benchmark's own servers listen. The
allowance is written here in code, never read from the environment, so that no deployment
can turn it on by mistake. Never used outside the benchmark."""

from bench.settings import *  # noqa: F403

LINK_CHECK_ALLOW_LOOPBACK = True
