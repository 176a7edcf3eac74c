"""review.linkcheck.check(): the network part of the link checker, against servers these tests
start on 127.0.0.1 (port 0, one thread each). No test reaches any other address: every host
name but "localhost" goes through a fake resolver, and the `connections` fixture (autouse)
records each connection the checker opens and fails the test on any address but 127.0.0.1.
"""

import contextlib
import socket
import ssl
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from ipaddress import ip_address

import pytest

from review import linkcheck
from review.linkcheck import check, refusal

AGENT = "AIMapLinkCheck/1.0 (+https://aimap.test/about)"


@dataclass(frozen=True)
class Seen:
    method: str
    path: str
    host: str
    user_agent: str
    accept: str


@pytest.fixture(autouse=True)
def connections(monkeypatch):
    """Every (ip, port) the checker connects to; anything but 127.0.0.1 fails the test."""
    opened = []
    real = linkcheck._connect

    def watched(ip, port, timeout):
        opened.append((ip, port))
        assert ip == "127.0.0.1", f"the checker tried to connect to {ip}"
        return real(ip, port, timeout)

    monkeypatch.setattr(linkcheck, "_connect", watched)
    return opened


@pytest.fixture
def serve():
    """start(respond) -> (base URL, requests seen). respond(method, path) gives (status, headers),
    or None to hang up without answering; it may wait on `stopping`, set at teardown."""
    servers, stopping = [], threading.Event()

    def start(respond):
        seen = []

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_HEAD(self):
                self.answer()

            def do_GET(self):
                self.answer()

            def answer(self):
                headers = self.headers
                seen.append(
                    Seen(self.command, self.path, headers["Host"], headers["User-Agent"], headers["Accept"])
                )
                answer = respond(self.command, self.path, stopping)
                if answer is None:
                    self.close_connection = True
                    return
                status, extra = answer
                self.send_response(status)
                for name, value in extra.items():
                    self.send_header(name, value)
                body = b"" if self.command == "HEAD" else b"hello"
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        server.daemon_threads = True
        threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_address[1]}", seen

    yield start
    stopping.set()
    for server in servers:
        server.shutdown()
        server.server_close()


def answering(status, headers=None):
    return lambda method, path, stopping: (status, headers or {})


def fake_resolver(table):
    """A getaddrinfo stand-in: host -> list of addresses; unknown hosts do not resolve."""

    def resolve(host, port, family=0, type=0, proto=0, flags=0):
        if host not in table:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return [
            (socket.AF_INET6, socket.SOCK_STREAM, 6, "", (address, port, 0, 0))
            if ":" in address
            else (socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port))
            for address in table[host]
        ]

    return resolve


def no_resolver(*args, **kwargs):
    raise AssertionError(f"nothing should be resolved here: {args}")


def local_check(url, **options):
    """check() as the tests run it against their own server on 127.0.0.1."""
    return check(url, user_agent=AGENT, allow_loopback=True, **options)


# 1, 2: plain answers


def test_a_site_that_answers_200_is_ok_after_one_head(serve):
    base, seen = serve(answering(200))
    outcome = local_check(base + "/about?lang=en")
    assert outcome == linkcheck.Outcome(ok=True, status=200, final_url=base + "/about?lang=en", error="")
    assert seen == [Seen("HEAD", "/about?lang=en", base.removeprefix("http://"), AGENT, "*/*")]


@pytest.mark.parametrize("status", [404, 410, 500])
def test_an_error_status_is_a_broken_link(serve, status):
    base, _ = serve(answering(status))
    outcome = local_check(base + "/")
    assert (outcome.ok, outcome.status, outcome.error) == (False, status, f"HTTP {status}")


# 3: HEAD refused


@pytest.mark.parametrize("refused", [405, 501])
def test_a_refused_head_is_followed_by_a_get(serve, refused):
    base, seen = serve(lambda method, path, stopping: (refused if method == "HEAD" else 200, {}))
    outcome = local_check(base + "/page")
    assert (outcome.ok, outcome.status, outcome.error) == (True, 200, "")
    assert [(request.method, request.path) for request in seen] == [("HEAD", "/page"), ("GET", "/page")]
    assert {request.user_agent for request in seen} == {AGENT}


def test_a_server_that_hangs_up_on_head_is_asked_with_get(serve):
    base, seen = serve(lambda method, path, stopping: None if method == "HEAD" else (200, {}))
    outcome = local_check(base + "/")
    assert (outcome.ok, outcome.status) == (True, 200)
    assert [request.method for request in seen] == ["HEAD", "GET"]


def test_a_get_that_fails_too_is_a_broken_link(serve):
    base, _ = serve(lambda method, path, stopping: (405, {}) if method == "HEAD" else (403, {}))
    assert local_check(base + "/").error == "HTTP 403"


# 4: timeout


def test_a_slow_server_times_out(serve):
    def respond(method, path, stopping):
        stopping.wait(5)  # longer than the timeout; teardown lets it go
        return None

    base, seen = serve(respond)
    started = time.monotonic()
    outcome = local_check(base + "/", timeout=0.5)
    assert time.monotonic() - started < 2
    assert outcome == linkcheck.Outcome(ok=False, status=None, final_url=base + "/", error="timed out")
    assert [request.method for request in seen] == ["HEAD"]  # no second wait with GET


# 5, 6: redirects


def test_a_redirect_loop_stops_after_max_redirects(serve):
    base, seen = serve(lambda method, path, stopping: (302, {"Location": "/b" if path == "/a" else "/a"}))
    outcome = local_check(base + "/a")
    assert (outcome.ok, outcome.status, outcome.error) == (False, 302, "too many redirects")
    assert len(seen) == 5 + 1
    assert outcome.final_url == base + "/b"  # the sixth request, /a /b /a /b /a /b

    seen.clear()
    assert local_check(base + "/a", max_redirects=2).error == "too many redirects"
    assert len(seen) == 3


def test_a_chain_of_relative_redirects_ends_at_the_last_address(serve):
    chain = {
        "/one": (301, "/two"),
        "/two": (302, "three"),
        "/three": (307, "four?x=1"),
        "/four?x=1": (200, None),
    }

    def respond(method, path, stopping):
        status, location = chain[path]
        return status, {"Location": location} if location else {}

    base, seen = serve(respond)
    outcome = local_check(base + "/one")
    assert outcome == linkcheck.Outcome(ok=True, status=200, final_url=base + "/four?x=1", error="")
    assert [request.path for request in seen] == list(chain)


def test_exactly_max_redirects_are_followed(serve):
    def respond(method, path, stopping):  # /0 -> /1 -> ... -> /5, which answers
        step = int(path[1:])
        return (200, {}) if step == 5 else (308, {"Location": f"/{step + 1}"})

    base, seen = serve(respond)
    assert local_check(base + "/0") == linkcheck.Outcome(ok=True, status=200, final_url=base + "/5", error="")
    assert len(seen) == 6
    assert local_check(base + "/0", max_redirects=4).error == "too many redirects"


@pytest.mark.parametrize(
    ("location", "error"),
    [(None, "redirect without a Location"), ("ftp://files.example.test/", "not http(s)")],
)
def test_a_redirect_must_name_an_http_address(serve, location, error):
    base, seen = serve(answering(302, {"Location": location} if location else {}))
    outcome = local_check(base + "/", resolve=no_resolver)
    assert (outcome.ok, outcome.status, outcome.error) == (False, 302, error)
    assert len(seen) == 1


# 7, 8, 9: the SSRF guard


def test_a_redirect_to_the_metadata_service_is_refused_before_connecting(serve, connections):
    metadata = "http://169.254.169.254/latest/meta-data/"
    base, seen = serve(answering(302, {"Location": metadata}))
    outcome = local_check(base + "/start", resolve=no_resolver)
    assert (outcome.ok, outcome.status) == (False, 302)
    assert outcome.error == "refused address 169.254.169.254 (link-local)"
    assert outcome.final_url == metadata  # where it was sent, not reached
    assert [ip for ip, port in connections] == ["127.0.0.1"]
    assert len(seen) == 1


def test_a_redirect_to_a_name_for_a_private_address_is_refused(serve, connections):
    base, _ = serve(answering(301, {"Location": "https://intranet.example.test/admin"}))
    outcome = local_check(base + "/", resolve=fake_resolver({"intranet.example.test": ["192.168.0.10"]}))
    assert outcome.error == "refused address 192.168.0.10 (private)"
    assert len(connections) == 1


def test_localhost_is_refused_without_the_allowance(serve, connections):
    base, seen = serve(answering(200))
    port = base.rsplit(":", 1)[1]
    outcome = check(f"http://localhost:{port}/", user_agent=AGENT)
    assert not outcome.ok
    assert outcome.error.startswith("refused address ") and outcome.error.endswith("(loopback)")
    assert seen == [] and connections == []


def test_a_name_for_loopback_is_refused_unless_allowed(serve, connections):
    base, seen = serve(answering(200))
    port = base.rsplit(":", 1)[1]
    resolve = fake_resolver({"example.test": ["127.0.0.1"]})

    refused = check(f"http://example.test:{port}/", user_agent=AGENT, resolve=resolve)
    assert refused.error == "refused address 127.0.0.1 (loopback)"
    assert seen == [] and connections == []

    allowed = check(f"http://example.test:{port}/", user_agent=AGENT, resolve=resolve, allow_loopback=True)
    assert (allowed.ok, allowed.status) == (True, 200)
    assert [request.host for request in seen] == [f"example.test:{port}"]
    assert connections == [("127.0.0.1", int(port))]  # the vetted address, not a second lookup


def test_literal_ip_hosts_are_judged_without_resolving(connections):
    for url, address in [
        ("http://10.0.0.7/", "10.0.0.7"),
        ("http://[::ffff:169.254.169.254]/", str(ip_address("::ffff:169.254.169.254"))),
    ]:
        outcome = check(url, user_agent=AGENT, resolve=no_resolver)
        assert not outcome.ok and outcome.error.startswith(f"refused address {address} (")
    assert connections == []


def test_one_private_address_among_public_ones_refuses_the_host(connections):
    resolve = fake_resolver({"mixed.example.test": ["93.184.216.34", "10.0.0.7"]})
    outcome = check("https://mixed.example.test/", user_agent=AGENT, resolve=resolve)
    assert outcome == linkcheck.Outcome(
        ok=False,
        status=None,
        final_url="https://mixed.example.test/",
        error="refused address 10.0.0.7 (private)",
    )
    assert connections == []


def test_an_unknown_name_cannot_be_resolved(connections):
    outcome = check("http://nowhere.example.test/", user_agent=AGENT, resolve=fake_resolver({}))
    assert (outcome.ok, outcome.error) == (False, "cannot resolve host")
    assert connections == []


# 10: refusal() on its own


@pytest.mark.parametrize(
    ("address", "reason"),
    [
        ("10.0.0.1", "private"),
        ("172.16.5.4", "private"),
        ("192.168.1.1", "private"),
        ("169.254.169.254", "link-local"),
        ("127.0.0.1", "loopback"),
        ("::1", "loopback"),
        ("fe80::1", "link-local"),
        ("fc00::1", "private"),
        ("224.0.0.1", "multicast"),
        ("ff02::1", "multicast"),
        ("0.0.0.0", "unspecified"),
        ("::", "unspecified"),
        ("100.64.0.1", "shared address space"),
        ("::ffff:127.0.0.1", "loopback"),
        ("::ffff:10.1.2.3", "private"),
        ("64:ff9b::a9fe:a9fe", "link-local"),  # 169.254.169.254 through NAT64
        ("240.0.0.1", "reserved"),
        ("not-an-ip", "not an IP address"),
    ],
)
def test_refusal_names_why_an_address_is_refused(address, reason):
    assert refusal(address, allow_loopback=False) == reason


@pytest.mark.parametrize("address", ["8.8.8.8", "2001:4860:4860::8888", "::ffff:8.8.8.8", "93.184.216.34"])
def test_refusal_allows_public_unicast_addresses(address):
    assert refusal(address, allow_loopback=False) == ""


def test_the_loopback_allowance_allows_loopback_only():
    assert refusal("127.0.0.1", allow_loopback=True) == ""
    assert refusal("127.5.6.7", allow_loopback=True) == ""
    assert refusal("::1", allow_loopback=True) == ""
    assert refusal("10.0.0.1", allow_loopback=True) == "private"
    assert refusal("169.254.169.254", allow_loopback=True) == "link-local"
    assert refusal("0.0.0.0", allow_loopback=True) == "unspecified"


# 11, 12: no server, no http


def test_a_port_nobody_listens_on_is_connection_refused():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    outcome = local_check(f"http://127.0.0.1:{port}/")
    assert outcome == linkcheck.Outcome(
        ok=False, status=None, final_url=f"http://127.0.0.1:{port}/", error="connection refused"
    )


@pytest.mark.parametrize(
    "url", ["ftp://files.example.test/readme", "javascript:alert(1)", "mailto:team@example.test", "/relative"]
)
def test_only_http_addresses_are_checked(url, connections):
    outcome = check(url, user_agent=AGENT, resolve=no_resolver)
    assert (outcome.ok, outcome.status, outcome.error) == (False, None, "not http(s)")
    assert connections == []


# https: the host name goes to TLS (SNI, certificate check), the connection to the vetted address


def test_https_wraps_the_vetted_connection_with_the_host_name(serve, connections, monkeypatch):
    base, seen = serve(answering(200))
    port = int(base.rsplit(":", 1)[1])
    wrapped = []

    class PlainContext:
        """Stands in for ssl.create_default_context(): records the call, leaves the socket plain."""

        def wrap_socket(self, sock, server_hostname):
            wrapped.append(server_hostname)
            return sock

    monkeypatch.setattr(ssl, "create_default_context", PlainContext)
    resolve = fake_resolver({"secure.example.test": ["127.0.0.1"]})
    outcome = check(
        f"https://secure.example.test:{port}/", user_agent=AGENT, resolve=resolve, allow_loopback=True
    )
    assert (outcome.ok, outcome.status) == (True, 200)
    assert wrapped == ["secure.example.test"]
    assert connections == [("127.0.0.1", port)]
    assert [request.host for request in seen] == [f"secure.example.test:{port}"]


def test_a_server_that_does_not_speak_tls_is_a_tls_error():
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]

    def plain_answer():
        sock, _ = listener.accept()
        with sock, contextlib.suppress(OSError):  # the client may reset the connection
            sock.settimeout(5)
            sock.recv(4096)  # the client hello
            sock.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
            while sock.recv(4096):  # until the client hangs up
                pass

    server = threading.Thread(target=plain_answer, daemon=True)
    server.start()
    try:
        outcome = local_check(f"https://127.0.0.1:{port}/", timeout=5)
    finally:
        server.join(5)
        listener.close()
    assert (outcome.ok, outcome.status) == (False, None)
    assert outcome.error.startswith("TLS error: ")
