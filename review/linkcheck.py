"""The network part of the link checker: does a project's website answer?

The addresses come from the public (anyone can submit a project), so the checker must not
become a way to reach the server's own neighbourhood (SSRF): the cloud metadata service at
169.254.169.254, the database on 10.x, an admin port on 127.0.0.1. Before every request,
the first one and each redirect alike, the checker resolves the host name itself and refuses
when ANY resolved address is not a public unicast address (refusal()). It then connects to
that vetted IP address, never to the name: asking the DNS a second time would let a hostile
name answer "public" to the check and "private" to the connection (DNS rebinding). The
original name still travels in the Host header and, for https, in SNI and the certificate
check.

check() never raises for network trouble: every failure becomes an Outcome with a short text.
"""

import contextlib
import http.client
import ipaddress
import socket
import ssl
from dataclasses import dataclass
from urllib.parse import quote, urljoin, urlsplit

REDIRECTS = frozenset({301, 302, 303, 307, 308})
HEAD_REFUSED = frozenset({405, 501})
BODY_LIMIT = 64 * 1024
SHARED = ipaddress.ip_network("100.64.0.0/10")  # carrier-grade NAT, RFC 6598
NAT64 = ipaddress.ip_network("64:ff9b::/96")  # an IPv4 address behind a NAT64 gateway
SAFE = "/%:@!$&'()*+,;=?~"  # characters left as they are in the request target


@dataclass(frozen=True)
class Outcome:
    ok: bool  # the site answered with a status < 400 after following redirects
    status: int | None  # the last HTTP status received (None when no answer)
    final_url: str  # the last address requested, or the one the checker refused to request
    error: str  # "" when ok, else a short English text ("HTTP 404", "timed out", ...)


class _Failure(Exception):
    """Stop checking; the message is the Outcome's error text."""


def refusal(address, *, allow_loopback=False) -> str:
    """Why the checker may not connect to `address` (a str or ipaddress object), or "" if it may.

    `allow_loopback` lets tests reach their own server on 127.0.0.1; nothing else is relaxed.
    """
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return "not an IP address"
    if ip.version == 6 and ip.ipv4_mapped:
        ip = ip.ipv4_mapped  # ::ffff:a.b.c.d is a.b.c.d
    elif ip in NAT64:
        ip = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    if ip.is_loopback:
        return "" if allow_loopback else "loopback"
    checks = [
        ("unspecified", ip.is_unspecified),
        ("link-local", ip.is_link_local),
        ("multicast", ip.is_multicast),
        ("shared address space", ip in SHARED),
        ("reserved", ip.is_reserved),
        ("private", ip.is_private),
        ("not global", not ip.is_global),
    ]
    return next((reason for reason, refused in checks if refused), "")


def check(url, *, user_agent, timeout=10, max_redirects=5, allow_loopback=False, resolve=None) -> Outcome:
    """Ask `url` (HEAD, else GET), following at most `max_redirects` redirects, each hop vetted."""
    resolve = resolve or socket.getaddrinfo
    status = None
    redirects = 0
    while True:
        try:
            scheme, host, port, target = _parse(url)
            ips = _vet(host, port, allow_loopback=allow_loopback, resolve=resolve)
            status, location = _ask(scheme, host, port, target, ips, user_agent, timeout)
        except _Failure as failure:
            return Outcome(False, status, url, str(failure))
        if status not in REDIRECTS:
            return Outcome(status < 400, status, url, "" if status < 400 else f"HTTP {status}")
        if redirects == max_redirects:
            return Outcome(False, status, url, "too many redirects")
        if not location or not location.strip():
            return Outcome(False, status, url, "redirect without a Location")
        url, redirects = urljoin(url, location.strip()), redirects + 1


def _parse(url):
    """(scheme, host, port, request target) of an http(s) address."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise _Failure("malformed address") from None
    if parts.scheme not in ("http", "https"):
        raise _Failure("not http(s)")
    if not parts.hostname:
        raise _Failure("no host name")
    target = quote(parts.path or "/", safe=SAFE)
    if parts.query:
        target += "?" + quote(parts.query, safe=SAFE)
    return parts.scheme, parts.hostname, port or (443 if parts.scheme == "https" else 80), target


def _vet(host, port, *, allow_loopback, resolve):
    """The host's addresses, all of them allowed; else _Failure naming the first refused one."""
    try:
        addresses = [str(ipaddress.ip_address(host))]  # a literal IP: no resolution
    except ValueError:
        try:
            found = resolve(host, port, type=socket.SOCK_STREAM)
        except (OSError, UnicodeError):
            raise _Failure("cannot resolve host") from None
        addresses = list(dict.fromkeys(info[4][0] for info in found))
    if not addresses:
        raise _Failure("cannot resolve host")
    for address in addresses:
        if reason := refusal(address, allow_loopback=allow_loopback):
            raise _Failure(f"refused address {address} ({reason})")
    return addresses


def _ask(scheme, host, port, target, ips, user_agent, timeout):
    """(status, Location) for one address: HEAD, and GET when HEAD is refused or dropped."""
    try:
        try:
            answer = _request("HEAD", scheme, host, port, target, ips, user_agent, timeout)
        except (ConnectionResetError, ConnectionAbortedError, BrokenPipeError):
            answer = None  # some servers hang up on HEAD
        if answer is None or answer[0] in HEAD_REFUSED:
            answer = _request("GET", scheme, host, port, target, ips, user_agent, timeout)
    except (OSError, http.client.HTTPException) as error:
        raise _Failure(_describe(error)) from None
    return answer


def _request(method, scheme, host, port, target, ips, user_agent, timeout):
    connection = _Connection(host, port, ips=ips, tls=scheme == "https", timeout=timeout)
    try:
        connection.request(method, target, headers={"User-Agent": user_agent, "Accept": "*/*"})
        response = connection.getresponse()
        if method == "GET":
            with contextlib.suppress(OSError, http.client.HTTPException):  # the status is what counts
                response.read(BODY_LIMIT)  # a taste of the body, then hang up
        return response.status, response.getheader("Location")
    finally:
        connection.close()


def _describe(error):
    if isinstance(error, TimeoutError):
        return "timed out"
    if isinstance(error, ConnectionRefusedError):
        return "connection refused"
    if isinstance(error, ssl.SSLCertVerificationError):
        return f"TLS error: {error.verify_message or error.reason}"
    if isinstance(error, ssl.SSLError):
        return f"TLS error: {error.reason or error}"
    if isinstance(error, ConnectionError):
        return "connection dropped"
    if isinstance(error, http.client.HTTPException):
        return "bad HTTP answer"
    return f"network error: {error.strerror or error}"


def _connect(ip, port, timeout):
    """Open a TCP connection to a vetted IP address: the one place that connects (tests watch it)."""
    return socket.create_connection((ip, port), timeout=timeout)


class _Connection(http.client.HTTPConnection):
    """An HTTP(S) connection to `host` that reaches it through the vetted addresses `ips`."""

    def __init__(self, host, port, *, ips, tls, timeout):
        super().__init__(host, port, timeout=timeout)
        self.ips, self.tls = ips, tls
        self.default_port = 443 if tls else 80  # the Host header names the port when not this one

    def connect(self):
        for ip in self.ips:  # in the resolver's order, like socket.create_connection
            try:
                sock = _connect(ip, self.port, self.timeout)
                break
            except OSError as error:
                failure = error
        else:
            raise failure
        if self.tls:
            try:
                sock = ssl.create_default_context().wrap_socket(sock, server_hostname=self.host)
            except BaseException:
                sock.close()
                raise
        self.sock = sock
