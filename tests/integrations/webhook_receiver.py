"""A real local HTTP server receiving signed webhook deliveries, for tests."""

import hashlib
import hmac
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Receiver:
    """Answers each POST with the next planned behaviour (an HTTP status, or
    ("sleep", seconds, status), or ("hold", status): wait until released),
    the last one repeating; records every request with its signature check."""

    def __init__(self, secret, plan=(200,), port=0):
        self.secret = secret
        self.plan = list(plan)
        self.requests = []
        self.received = threading.Event()
        self.release = threading.Event()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server's naming
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                headers = {k.lower(): v for k, v in self.headers.items()}
                receiver.requests.append(
                    {"headers": headers, "body": body, "signature_ok": receiver.verify(headers, body)}
                )
                step = receiver.plan.pop(0) if len(receiver.plan) > 1 else receiver.plan[0]
                receiver.received.set()
                if isinstance(step, tuple) and step[0] == "sleep":
                    time.sleep(step[1])
                    step = step[2]
                elif isinstance(step, tuple) and step[0] == "hold":
                    receiver.release.wait(30)
                    step = step[1]
                try:
                    self.send_response(step)
                    self.send_header("Content-Type", "application/json")
                    self.end_headers()
                    self.wfile.write(json.dumps({"ok": step < 300}).encode())
                except OSError:
                    pass  # the console gave up waiting

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/replays"
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    def verify(self, headers, body):
        timestamp = headers.get("x-opsconsole-timestamp", "")
        digest = hmac.new(self.secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
        expected = "sha256=" + digest
        return hmac.compare_digest(expected, headers.get("x-opsconsole-signature", ""))

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.release.set()
        self.server.shutdown()
        self.server.server_close()
