#!/usr/bin/env python3
"""Opens N keep-alive connections to a server, completes one request on each, then holds
them idle until stdin closes. Prints "ready <n>" when every response has arrived, so the
caller can measure the server's memory. Used by bench/run.sh (scenario 6) and, with a fifth
argument "tls", by bench/tls.sh (each connection then completes a TLS handshake first)."""
import selectors
import socket
import ssl
import sys


def main() -> int:
    host, port, count, path = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
    use_tls = len(sys.argv) > 5 and sys.argv[5] == "tls"
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE  # the server's memory is measured, not its identity
    request = f"GET {path} HTTP/1.1\r\nHost: bench\r\n\r\n".encode()
    sel = selectors.DefaultSelector()
    pending = {}
    for _ in range(count):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.connect((host, port))
        if use_tls:
            s = context.wrap_socket(s, server_hostname="localhost")
        s.sendall(request)
        s.setblocking(False)
        pending[s] = b""
        sel.register(s, selectors.EVENT_READ)
    done = []
    while pending:
        events = sel.select(timeout=30)
        if not events:
            print(f"timeout with {len(pending)} responses missing", file=sys.stderr)
            return 1
        for key, _ in events:
            s = key.fileobj
            try:
                data = s.recv(65536)
            except ssl.SSLWantReadError:
                continue
            if not data:
                print("a connection closed early", file=sys.stderr)
                return 1
            buf = pending[s] + data
            head_end = buf.find(b"\r\n\r\n")
            if head_end >= 0:
                length = 0
                for line in buf[:head_end].split(b"\r\n")[1:]:
                    name, _, value = line.partition(b":")
                    if name.strip().lower() == b"content-length":
                        length = int(value.strip())
                if len(buf) >= head_end + 4 + length:
                    sel.unregister(s)
                    del pending[s]
                    done.append(s)
                    continue
            pending[s] = buf
    print(f"ready {len(done)}", flush=True)
    sys.stdin.read()
    for s in done:
        s.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
