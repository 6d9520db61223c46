#!/usr/bin/env python3
"""Fault injection: every worker of a running server is killed (SIGKILL) once a second for
SECONDS while a probe sends one request every 50 ms on a new connection (1 s timeout). Prints
the probes answered 200, the ones that failed, and the longest time without an answer.

    bench/kill_loop.py PORT MASTER_PID [SECONDS=20]

Run it against shoal and nginx started with 2 workers each (bench/RESULTS.md has the run of
issue 29); the workers are the master's children (`pgrep -P`). Traffic goes to 127.0.0.1 only,
and both loops end by themselves.
"""
import os
import signal
import socket
import subprocess
import sys
import threading
import time


def main():
    port, master = int(sys.argv[1]), int(sys.argv[2])
    seconds = float(sys.argv[3]) if len(sys.argv) > 3 else 20.0
    stop = threading.Event()
    answered, failed = [], [0]

    def probe():
        while not stop.is_set():
            began = time.monotonic()
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
                    s.settimeout(1)
                    s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                    data = b""
                    while chunk := s.recv(4096):
                        data += chunk
                if data.startswith(b"HTTP/1.1 200"):
                    answered.append(time.monotonic())
                else:
                    failed[0] += 1
            except OSError:
                failed[0] += 1
            time.sleep(max(0.0, 0.05 - (time.monotonic() - began)))

    prober = threading.Thread(target=probe)
    prober.start()
    start = time.monotonic()
    while time.monotonic() - start < seconds:
        workers = subprocess.run(["pgrep", "-P", str(master)], capture_output=True,
                                 text=True).stdout.split()
        for pid in workers:
            try:
                os.kill(int(pid), signal.SIGKILL)
            except ProcessLookupError:
                pass
        time.sleep(1)
    time.sleep(2)  # the last replacements
    stop.set()
    prober.join()
    gaps = [b - a for a, b in zip(answered, answered[1:])] or [0.0]
    print(f"answered {len(answered)} failed {failed[0]} longest_gap {max(gaps):.2f}s")


if __name__ == "__main__":
    main()
