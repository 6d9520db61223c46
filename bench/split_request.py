#!/usr/bin/env python3
"""Worst time to an answer for a first request sent in two writes by a client that keeps
Nagle's algorithm on (no TCP_NODELAY): the second write waits until the server ACKs the
first. A server that leaves that ACK to the delayed-ACK timer costs such a client 40 ms.

    bench/split_request.py PORT [ROUNDS=20]
"""
import socket
import sys
import time

port = int(sys.argv[1])
rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 20
worst = 0.0
for _ in range(rounds):
    with socket.create_connection(("127.0.0.1", port)) as s:
        start = time.monotonic()
        s.sendall(b"POST /tiny HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\n")
        s.sendall(b"hello")
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
        worst = max(worst, time.monotonic() - start)
status = data.split(b"\r\n", 1)[0].decode(errors="replace")
print(f"{worst * 1000:.1f} ms worst of {rounds} ({status})")
