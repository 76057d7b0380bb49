"""A throw-away nginx reverse proxy in front of test servers.

Users put qBittorrent behind nginx (sub-paths, header rewriting); tests need the
real thing, confined to a tmp dir and a loopback port.
"""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from tests.harness.tools import require_tool
from tests.harness.wait import GiveUp, free_port, port_accepts, wait_until

START_TIMEOUT = 10.0


@dataclass
class NginxInstance:
    """A running nginx listening on 127.0.0.1:``port``."""

    port: int
    base_dir: Path
    process: subprocess.Popen[bytes]
    _output: IO[bytes] | None = field(default=None, repr=False)

    @property
    def url(self) -> str:
        """Base URL of the proxy."""
        return f"http://127.0.0.1:{self.port}"

    def error_log(self) -> str:
        """nginx's error log (useful when a proxied request misbehaves)."""
        path = self.base_dir / "logs" / "error.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def stop(self) -> None:
        """Fast shutdown (SIGTERM), then kill if it hangs."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        if self._output is not None:
            self._output.close()
            self._output = None

    def __enter__(self) -> NginxInstance:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def render_nginx_conf(base_dir: Path, port: int, server_block: str) -> str:
    """nginx.conf with every writable path inside ``base_dir``."""
    user = "user root;\n" if os.geteuid() == 0 else ""  # workers must reach root's tmp dirs
    temp = base_dir / "temp"
    return f"""{user}worker_processes 1;
pid {base_dir}/nginx.pid;
error_log {base_dir}/logs/error.log info;
events {{ worker_connections 128; }}
http {{
    access_log {base_dir}/logs/access.log;
    client_body_temp_path {temp}/client_body;
    proxy_temp_path {temp}/proxy;
    fastcgi_temp_path {temp}/fastcgi;
    uwsgi_temp_path {temp}/uwsgi;
    scgi_temp_path {temp}/scgi;
    server {{
        listen 127.0.0.1:{port};
        server_name localhost;
{server_block}
    }}
}}
"""


def start_nginx(base_dir: Path, server_block: str) -> NginxInstance:
    """Start nginx in the foreground on a free loopback port; wait until it accepts.

    ``server_block`` is the inside of ``server {}`` (locations); the listen line is
    added here. A config error fails at once with nginx's output.
    """
    nginx = require_tool("nginx")
    base_dir.mkdir(parents=True, exist_ok=True)
    for sub in ("logs", "temp"):
        (base_dir / sub).mkdir(exist_ok=True)
    port = free_port()
    conf = base_dir / "nginx.conf"
    conf.write_text(render_nginx_conf(base_dir, port, server_block))
    out_path = base_dir / "nginx.out"
    output = out_path.open("ab")
    command = [
        nginx, "-p", f"{base_dir}/", "-c", str(conf),
        "-e", str(base_dir / "logs" / "error.log"), "-g", "daemon off;",
    ]  # fmt: skip
    process = subprocess.Popen(
        command, stdin=subprocess.DEVNULL, stdout=output, stderr=subprocess.STDOUT
    )
    instance = NginxInstance(port, base_dir, process, output)

    def ready() -> bool:
        if process.poll() is not None:
            raise GiveUp(f"nginx exited with code {process.returncode}")
        return port_accepts(port)

    try:
        wait_until(ready, START_TIMEOUT, 0.05, what=f"nginx on 127.0.0.1:{port}")
    except (TimeoutError, GiveUp) as exc:
        instance.stop()
        raise RuntimeError(
            f"nginx did not start: {exc}\n--- output ---\n"
            f"{out_path.read_text(errors='replace')}\n--- error.log ---\n{instance.error_log()}"
            f"\n--- nginx.conf ---\n{conf.read_text()}"
        ) from exc
    return instance
