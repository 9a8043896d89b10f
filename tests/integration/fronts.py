# SPDX-License-Identifier: Apache-2.0
"""deploy/'s balancers, run for a test in front of one or more atriumd hosts.

NginxFront runs deploy/nginx/atrium.conf, HaproxyFront deploy/haproxy/atrium.cfg. The files are
the deployed text; only what cannot work here is replaced: the servers (the test's hosts), the
HTTPS listener (a free loopback port and a throwaway certificate), log paths, and the plain
HTTP listener (redirects only) is left out. Everything that shapes connections (keep-alive,
timeouts, retries, health checks, proxy headers) is unchanged. Both offer connection() and
request() over HTTPS.
"""
from __future__ import annotations

import http.client
import os
import shutil
import ssl
import subprocess
import time
from typing import Sequence

import harness


def nginx_config(scratch: str, listen: int, upstreams: Sequence[int],
                 worker_connections: int = 1024, hold: int | None = None) -> str:
    """The nginx.conf text: deploy/'s site with @upstreams (ports on 127.0.0.1). bench/idle
    raises @worker_connections to hold its idle clients, and with @hold (seconds) gives idle
    and slow clients as long as it gives atriumd (header_timeout), so neither closes them."""
    with open(os.path.join(harness.SOURCE_DIR, "deploy", "nginx", "atrium.conf")) as f:
        site = f.read()
    servers = "".join(f"    server 127.0.0.1:{p} max_fails=3 fail_timeout=10s;\n"
                      for p in upstreams)
    line = "    server 127.0.0.1:8080 max_fails=3 fail_timeout=10s;\n"
    if line not in site:
        raise harness.HarnessError("deploy/nginx/atrium.conf: the upstream line changed")
    site = site.replace(line, servers)
    start = site.index("# ---- plain HTTP: only redirects")
    end = site.index("# ---- HTTPS")
    site = site[:start] + site[end:]
    site = site.replace("listen 443 ssl http2;", f"listen 127.0.0.1:{listen} ssl http2;")
    site = site.replace("listen [::]:443 ssl http2;", "")
    site = site.replace("/etc/letsencrypt/live/atrium.example.org/fullchain.pem",
                        os.path.join(scratch, "cert.pem"))
    site = site.replace("/etc/letsencrypt/live/atrium.example.org/privkey.pem",
                        os.path.join(scratch, "key.pem"))
    site = site.replace("/var/log/nginx/", scratch + "/")
    if hold is not None:
        for limit in ("client_header_timeout 10s;", "keepalive_timeout 30s;"):
            if limit not in site:
                raise harness.HarnessError(f"deploy/nginx/atrium.conf: no '{limit}'")
            site = site.replace(limit, limit.split()[0] + f" {hold}s;")
    user = "user root;\n" if os.geteuid() == 0 else ""
    return (f"{user}worker_processes 2;\npid {scratch}/nginx.pid;\n"
            f"error_log {scratch}/error.log warn;\ndaemon off;\n"
            + (f"worker_rlimit_nofile {2 * worker_connections + 64};\n"
               if worker_connections > 1024 else "")
            + f"events {{ worker_connections {worker_connections}; }}\n"
            "http {\n"
            f"  client_body_temp_path {scratch}/body; proxy_temp_path {scratch}/proxy;\n"
            f"  fastcgi_temp_path {scratch}/fcgi; uwsgi_temp_path {scratch}/uwsgi;\n"
            f"  scgi_temp_path {scratch}/scgi;\n"
            f"{site}\n}}\n")


class Front:
    """A balancer process with a throwaway certificate in a scratch directory."""

    NAME = ""

    def _config(self, scratch: str, listen: int, upstreams: Sequence[int]) -> str:
        raise NotImplementedError

    def _command(self, conf: str) -> list[str]:
        raise NotImplementedError

    def __init__(self, upstreams: Sequence[int]) -> None:
        self.scratch = harness._make_scratch(f"atrium-{self.NAME}-")
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                        "-subj", "/CN=atrium.example.org",
                        "-keyout", os.path.join(self.scratch, "key.pem"),
                        "-out", os.path.join(self.scratch, "cert.pem")],
                       check=True, capture_output=True)
        self.port = harness.free_port()
        conf = os.path.join(self.scratch, f"{self.NAME}.conf")
        with open(conf, "w") as f:
            f.write(self._config(self.scratch, self.port, upstreams))
        self.proc = subprocess.Popen(self._command(conf),
                                     stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                     stderr=open(os.path.join(self.scratch, "stderr"), "wb"))
        self.tls = ssl.create_default_context()
        self.tls.check_hostname = False
        self.tls.verify_mode = ssl.CERT_NONE
        deadline = time.monotonic() + 20
        while True:
            try:
                if self.request("GET", "/healthz") == 200:
                    return
            except OSError:
                pass
            if time.monotonic() > deadline or self.proc.poll() is not None:
                log = self.log("error.log") + self.log("stderr")
                self.stop()
                raise harness.HarnessError(f"{self.NAME} did not start:\n" + log)
            time.sleep(0.1)

    def log(self, name: str = "error.log") -> str:
        try:
            with open(os.path.join(self.scratch, name)) as f:
                return f.read()
        except OSError:
            return ""

    def connection(self, timeout: float = 30) -> http.client.HTTPSConnection:
        return http.client.HTTPSConnection("127.0.0.1", self.port, timeout=timeout,
                                           context=self.tls)

    def request(self, method: str, path: str, token: str | None = None,
                body: bytes | None = None, hang_up: bool = False) -> int:
        """One request on a connection of its own; returns the status."""
        conn = self.connection()
        headers = {"Host": "atrium.example.org"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        if body is not None:
            headers["Content-Type"] = "application/json"
        conn.request(method, path, body=body, headers=headers)
        resp = conn.getresponse()
        if not hang_up:
            resp.read()
        conn.close()
        return resp.status

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)
        shutil.rmtree(self.scratch, ignore_errors=True)


class NginxFront(Front):
    """nginx with deploy/nginx/atrium.conf."""

    NAME = "nginx"

    def __init__(self, upstreams: Sequence[int]) -> None:
        self.binary = shutil.which("nginx") or "/usr/sbin/nginx"
        if not os.path.exists(self.binary):
            raise harness.HarnessError("nginx is not installed (scripts/setup.sh installs it)")
        super().__init__(upstreams)

    def _config(self, scratch: str, listen: int, upstreams: Sequence[int]) -> str:
        return nginx_config(scratch, listen, upstreams)

    def _command(self, conf: str) -> list[str]:
        return [self.binary, "-c", conf, "-p", self.scratch]


def haproxy_config(scratch: str, listen: int, upstreams: Sequence[int]) -> str:
    """deploy/haproxy/atrium.cfg with @upstreams (ports on 127.0.0.1)."""
    with open(os.path.join(harness.SOURCE_DIR, "deploy", "haproxy", "atrium.cfg")) as f:
        cfg = f.read()
    pem = os.path.join(scratch, "both.pem")
    with open(pem, "w") as out:
        for part in ("cert.pem", "key.pem"):
            with open(os.path.join(scratch, part)) as f:
                out.write(f.read())
    replace = {
        "    log /dev/log local0\n": "    log stderr format raw local0\n",
        "    bind :443 ssl crt /etc/haproxy/atrium.pem alpn h2,http/1.1\n":
            f"    bind 127.0.0.1:{listen} ssl crt {pem} alpn h2,http/1.1\n",
        "    bind :80\n": "",
        # This machine's descriptor limit is lower than 20,000 connections need.
        "    maxconn 20000\n": "    maxconn 4000\n",
        "    server atriumd1 127.0.0.1:8080\n":
            "".join(f"    server atriumd{i + 1} 127.0.0.1:{p}\n"
                    for i, p in enumerate(upstreams)),
    }
    for old, new in replace.items():
        if old not in cfg:
            raise harness.HarnessError(f"deploy/haproxy/atrium.cfg: {old.strip()!r} changed")
        cfg = cfg.replace(old, new)
    return cfg


class HaproxyFront(Front):
    """HAProxy with deploy/haproxy/atrium.cfg."""

    NAME = "haproxy"

    def __init__(self, upstreams: Sequence[int]) -> None:
        self.binary = shutil.which("haproxy") or "/usr/sbin/haproxy"
        if not os.path.exists(self.binary):
            raise harness.HarnessError("haproxy is not installed (scripts/setup.sh installs it)")
        super().__init__(upstreams)

    def _config(self, scratch: str, listen: int, upstreams: Sequence[int]) -> str:
        return haproxy_config(scratch, listen, upstreams)

    def _command(self, conf: str) -> list[str]:
        return [self.binary, "-db", "-f", conf]
