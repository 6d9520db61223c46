#!/usr/bin/python3
"""Opens N HTTP/2 connections (h2c by prior knowledge) to a server, completes one request on
each, then holds them idle until stdin closes. Prints "ready <n>" when every response has
arrived, so the caller can measure the server's memory (bench/h2.sh). Frames are made and read
with python3-hyperframe and python3-hpack: no HTTP/2 client library keeps state per stream."""
import selectors
import socket
import sys

import hpack
from hyperframe.frame import DataFrame, Frame, HeadersFrame, SettingsFrame

PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"


def main() -> int:
    host, port, count, path = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
    sel = selectors.DefaultSelector()
    pending = {}
    for _ in range(count):
        s = socket.create_connection((host, port))
        block = hpack.Encoder().encode([(":method", "GET"), (":path", path),
                                        (":scheme", "http"), (":authority", "bench")])
        s.sendall(PREFACE + SettingsFrame(0).serialize() +
                  HeadersFrame(1, block, flags=["END_HEADERS", "END_STREAM"]).serialize())
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
            data = s.recv(65536)
            if not data:
                print("a connection closed early", file=sys.stderr)
                return 1
            buf = pending[s] + data
            ended = False
            while len(buf) >= 9:
                frame, length = Frame.parse_frame_header(memoryview(buf[:9]))
                if len(buf) < 9 + length:
                    break
                frame.parse_body(memoryview(buf[9:9 + length]))
                buf = buf[9 + length:]
                if isinstance(frame, SettingsFrame) and "ACK" not in frame.flags:
                    s.sendall(SettingsFrame(0, flags=["ACK"]).serialize())
                if isinstance(frame, (DataFrame, HeadersFrame)) and "END_STREAM" in frame.flags:
                    ended = True
            if ended:
                sel.unregister(s)
                del pending[s]
                done.append(s)
            else:
                pending[s] = buf
    print(f"ready {len(done)}", flush=True)
    sys.stdin.read()
    for s in done:
        s.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
