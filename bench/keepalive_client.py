#!/usr/bin/env python3
"""Sends N requests for PATH one after the other on one keep-alive connection and reads each
response whole (by its Content-Length). For instruction counts under callgrind
(bench/instructions.sh, bench/metrics.sh), where the client's speed does not matter.

    keepalive_client.py PORT N [PATH=/1k.bin]"""
import socket
import sys


def main() -> None:
    port, n = int(sys.argv[1]), int(sys.argv[2])
    path = sys.argv[3] if len(sys.argv) > 3 else "/1k.bin"
    s = socket.create_connection(("127.0.0.1", port))
    request = f"GET {path} HTTP/1.1\r\nHost: x\r\n\r\n".encode()
    buffered = b""
    for _ in range(n):
        s.sendall(request)
        while b"\r\n\r\n" not in buffered:
            buffered += s.recv(65536)
        head, _, buffered = buffered.partition(b"\r\n\r\n")
        length = next(int(line.split(b":")[1]) for line in head.split(b"\r\n")
                      if line.lower().startswith(b"content-length:"))
        while len(buffered) < length:
            buffered += s.recv(65536)
        buffered = buffered[length:]


if __name__ == "__main__":
    main()
