#!/usr/bin/env python3
"""A test upstream for the proxy tests (HTTP/1.1, keep-alive, one thread per connection).

    upstream.py [--keepalive-timeout S] [--close-after N] [--name NAME] [--host H] [--port P]

Listens on 127.0.0.1 (or H) on an ephemeral port (or P) and prints "ready PORT". Paths:
  /echo...            200, a text body: the method, the target, every field, then the body
  /delay?ms=N         200 "slept" after N ms
  /status?code=N      that status, body "status N" (none for 204 and 304)
  /big?bytes=N        N bytes of 'x' with Content-Length
  /chunked?parts=N    N chunks of "part K\\n"
  /close-mid-body     Content-Length 1000, 10 bytes, then the connection closes
  /bad-head           a response line that is not HTTP
  /early              200 "early" before reading the request body; then it reads the body
                      and the connection closes
  /stats              "connections C requests R" (counted since start)
  /ws                 with "Upgrade: websocket": 101, then a WebSocket echo (each data frame
                      back unmasked, a close frame answered and the connection closed);
                      without: 426
  /ws-bare            a 101 without an Upgrade header, then bytes
--keepalive-timeout: an idle connection is closed after S seconds; --close-after: a
connection is closed after N requests (without saying so in the response).
"""
import argparse
import base64
import hashlib
import http.server
import socketserver
import sys
import threading
import time
from urllib.parse import parse_qs, urlsplit

counts = {"connections": 0, "requests": 0}
lock = threading.Lock()


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # the head and body are two writes
    close_after = 0
    name = "upstream"

    def setup(self):
        super().setup()
        self.served = 0
        with lock:
            counts["connections"] += 1

    def log_message(self, *args):
        pass

    def reply(self, status, body=b"", fields=()):
        self.send_response(status)
        for name, value in fields:
            self.send_header(name, value)
        if status not in (204, 304):
            self.send_header("Content-Length", str(len(body)))
        self.send_header("X-Upstream", self.name)
        self.end_headers()
        if status not in (204, 304) and self.command != "HEAD":
            self.wfile.write(body)

    def body(self):
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            data = b""
            while True:
                size = int(self.rfile.readline().strip().split(b";")[0], 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return data
                data += self.rfile.read(size)
                self.rfile.readline()
        length = int(self.headers.get("Content-Length", "0") or 0)
        return self.rfile.read(length) if length else b""

    def handle_one_request(self):
        super().handle_one_request()
        self.served += 1
        if self.close_after and self.served >= self.close_after:
            self.close_connection = True

    def route(self):
        with lock:
            counts["requests"] += 1
        url = urlsplit(self.path)
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        if url.path == "/early":  # answers before reading the body, then reads it and closes
            self.close_connection = True
            self.reply(200, b"early")
            self.wfile.flush()
            try:
                self.body()  # read, so that the close sends no RST over the answer
            except OSError:
                pass
            return
        if url.path == "/ws-bare":
            self.send_response(101)
            self.send_header("Connection", "Upgrade")
            self.end_headers()
            self.wfile.write(b"not a protocol anyone asked for")
            self.wfile.flush()
            self.close_connection = True
            return
        if url.path == "/ws":
            self.websocket()
            return
        data = self.body()
        if url.path.startswith("/echo"):
            lines = [f"{self.command} {self.path}"]
            lines += [f"{k}: {v}" for k, v in self.headers.items()]
            text = "\n".join(lines) + "\n\n"
            self.reply(200, text.encode() + data, [("Content-Type", "text/plain")])
        elif url.path == "/delay":
            time.sleep(int(query.get("ms", "100")) / 1000)
            self.reply(200, b"slept")
        elif url.path == "/status":
            code = int(query.get("code", "200"))
            self.reply(code, f"status {code}".encode())
        elif url.path == "/big":
            self.reply(200, b"x" * int(query.get("bytes", "1024")))
        elif url.path == "/chunked":
            self.send_response(200)
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for k in range(int(query.get("parts", "3"))):
                part = f"part {k}\n".encode()
                self.wfile.write(b"%x\r\n%s\r\n" % (len(part), part))
            self.wfile.write(b"0\r\n\r\n")
        elif url.path == "/close-mid-body":
            self.send_response(200)
            self.send_header("Content-Length", "1000")
            self.end_headers()
            self.wfile.write(b"0123456789")
            self.wfile.flush()
            self.close_connection = True
        elif url.path == "/bad-head":
            self.wfile.write(b"NOT HTTP AT ALL\r\n\r\n")
            self.close_connection = True
        elif url.path == "/stats":
            with lock:
                text = f"connections {counts['connections']} requests {counts['requests']}"
            self.reply(200, text.encode())
        else:
            self.reply(404, b"no such path")

    def websocket(self):
        if self.headers.get("Upgrade", "").lower() != "websocket":
            self.reply(426, b"upgrade required", [("Upgrade", "websocket")])
            return
        key = self.headers.get("Sec-WebSocket-Key", "")
        accept = base64.b64encode(
            hashlib.sha1((key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").encode()).digest())
        self.send_response(101)
        self.send_header("Upgrade", "websocket")
        self.send_header("Connection", "Upgrade")
        self.send_header("Sec-WebSocket-Accept", accept.decode())
        self.end_headers()
        self.wfile.flush()
        self.close_connection = True
        while True:  # RFC 6455 frames: FIN+opcode, mask bit and length, key, payload
            head = self.rfile.read(2)
            if len(head) < 2:
                return
            opcode, length = head[0] & 0x0F, head[1] & 0x7F
            if length == 126:
                length = int.from_bytes(self.rfile.read(2), "big")
            elif length == 127:
                length = int.from_bytes(self.rfile.read(8), "big")
            mask = self.rfile.read(4) if head[1] & 0x80 else b"\0\0\0\0"
            payload = bytes(b ^ mask[i % 4] for i, b in enumerate(self.rfile.read(length)))
            if length < 126:
                size = bytes([length])
            elif length < 65536:
                size = bytes([126]) + length.to_bytes(2, "big")
            else:
                size = bytes([127]) + length.to_bytes(8, "big")
            self.wfile.write(bytes([0x80 | opcode]) + size + payload)
            self.wfile.flush()
            if opcode == 8:  # close: answered, then the connection ends
                return

    do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = do_PATCH = do_OPTIONS = route


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--keepalive-timeout", type=float, default=0)
    parser.add_argument("--close-after", type=int, default=0)
    parser.add_argument("--name", default="upstream")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--host", default="127.0.0.1")
    args = parser.parse_args()
    Handler.close_after = args.close_after
    Handler.name = args.name
    if args.keepalive_timeout:
        Handler.timeout = args.keepalive_timeout  # an idle connection's read times out: closed
    server = Server((args.host, args.port), Handler)
    print(f"ready {server.server_address[1]}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    sys.exit(main())
