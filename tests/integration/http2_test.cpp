// HTTP/2 against the real binary with real clients: curl (--http2-prior-knowledge: h2c on a
// plain address), nghttp (many streams on one connection) and python3-h2 (frames by hand: a
// reload's GOAWAY, bad frames). HTTP/2 over TLS (ALPN) is in tls_test.cpp, beside the
// certificates. curl 7.88 cannot reuse an h2c connection (curl#10634), so each curl call
// fetches one URL; nghttp multiplexes.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <string>

#include "harness.hpp"

namespace shoal::test {
namespace {

// A web root the workers can read (they run as nobody under a root test run): an index and
// a 300 KB file (more than a stream's first window).
class Root {
 public:
  Root() {
    ::chmod(dir_.path().c_str(), 0755);
    write_file(dir_ / "index.html", "<p>hello over h2</p>\n");
    std::string big(300 * 1024, 'x');
    for (size_t i = 0; i < big.size(); i += 97) big[i] = static_cast<char>('a' + i % 26);
    write_file(dir_ / "big.txt", big);
  }
  std::string operator/(const std::string& name) const { return dir_ / name; }
  std::string path() const { return dir_.path(); }

 private:
  TempDir dir_;
};

std::string site(const Root& root, const std::string& extra_listen = "",
                 const std::string& upstream = "") {
  return "workers: 1\n"
         "helpers: { count: 2 }\n" +
         (upstream.empty() ? std::string()
                           : "upstreams:\n  app: { servers: [\"" + upstream + "\"] }\n") +
         "servers:\n"
         "  - listen: [127.0.0.1:@PORT@" +
         extra_listen +
         "]\n"
         "    routes:\n"
         "      - match: /r\n"
         "        return: { status: 200, body: \"from return\\n\" }\n"
         "      - match: /nap\n"
         "        job: { builtin: sleep, ms: 600 }\n"
         "      - match: /short\n"
         "        job: { builtin: sleep, ms: 20 }\n"
         "      - match: /metrics\n"
         "        metrics: {}\n" +
         (upstream.empty() ? std::string()
                           : "      - match: /up/\n"
                             "        proxy: { upstream: app, strip_prefix: /up }\n") +
         "      - match: /\n"
         "        static: { root: " +
         root.path() + " }\n";
}

std::string h2c(int port, const std::string& path, const std::string& options = "") {
  return "curl -sS --max-time 20 --http2-prior-knowledge " + options +
         " http://127.0.0.1:" + std::to_string(port) + path;
}

// Runs a python3-h2 client script with PORT set; its stdout is the result.
CommandResult python_h2(int port, const std::string& script) {
  return run_command("PORT=" + std::to_string(port) +
                     " timeout 30 /usr/bin/python3 - <<'PYTHON'\n" + script + "\nPYTHON");
}

// The shared part of the python clients: a connection and a way to read events until `until`.
const std::string kPythonClient = R"(
import os, socket, hpack, h2.connection, h2.config, h2.events
sock = socket.create_connection(("127.0.0.1", int(os.environ["PORT"])))
conn = h2.connection.H2Connection(h2.config.H2Configuration(client_side=True))
conn.initiate_connection()
sock.sendall(conn.data_to_send())
def request(path, end=True):
    sid = conn.get_next_available_stream_id()
    conn.send_headers(sid, [(":method", "GET"), (":path", path), (":scheme", "http"),
                            (":authority", "localhost")], end_stream=end)
    sock.sendall(conn.data_to_send())
    return sid
def events(until, limit=200):
    seen = []
    for _ in range(limit):
        data = sock.recv(65536)
        if not data:
            seen.append("closed")
            return seen
        for e in conn.receive_data(data):
            seen.append(e)
            if isinstance(e, h2.events.DataReceived):
                conn.acknowledge_received_data(e.flow_controlled_length, e.stream_id)
        sock.sendall(conn.data_to_send())
        if until(seen):
            return seen
    return seen
)";

// A connection made by hand (hyperframe), whose first stream is one request's head.
const std::string kRawRequest = R"(
import os, socket, time, hpack
from hyperframe.frame import HeadersFrame, SettingsFrame, PingFrame
def raw_request(method, path, flags):
    s = socket.create_connection(("127.0.0.1", int(os.environ["PORT"])))
    s.sendall(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + SettingsFrame(0).serialize())
    block = hpack.Encoder().encode([(":method", method), (":path", path), (":scheme", "http"),
                                    (":authority", "x")])
    s.sendall(HeadersFrame(1, block, flags=flags).serialize())
    return s
)";

TEST(Http2Test, PriorKnowledgeOnAPlainAddressServesEveryRoute) {
  Root root;
  ShoalServer server(site(root));
  const int port = server.port();
  auto version = [&](const std::string& path, const std::string& options = "") {
    return run_command(h2c(port, path, options + " -o /dev/null -w '%{http_version} %{http_code}'"))
        .output;
  };
  EXPECT_EQ(run_command(h2c(port, "/r")).output, "from return\n");
  EXPECT_EQ(version("/r"), "2 200");
  EXPECT_EQ(run_command(h2c(port, "/index.html")).output, "<p>hello over h2</p>\n");
  EXPECT_EQ(run_command(h2c(port, "/big.txt") + " | cmp - " + root / "big.txt").status, 0);
  EXPECT_EQ(run_command(h2c(port, "/big.txt", "-r 100-109")).output,
            read_file(root / "big.txt").substr(100, 10));
  EXPECT_EQ(version("/big.txt", "-r 100-109"), "2 206");
  EXPECT_EQ(version("/index.html", "-H 'If-None-Match: *'"), "2 304");
  auto head = run_command(h2c(port, "/big.txt", "-I"));
  EXPECT_NE(head.output.find("content-length: 307200"), std::string::npos) << head.output;
  EXPECT_EQ(head.output.find("connection:"), std::string::npos) << head.output;
  const auto job = run_command(h2c(port, "/short", "-v"));
  EXPECT_NE(job.output.find(" ms in helper "), std::string::npos)  // "slept 20 ms" or more
      << job.output << server.error_log();
  EXPECT_EQ(version("/missing"), "2 404");
  EXPECT_NE(run_command(h2c(port, "/metrics")).output.find("shoal_requests_total"),
            std::string::npos);
  // The same address still speaks HTTP/1.1.
  auto one = get(port, "/r");
  ASSERT_TRUE(one);
  EXPECT_EQ(one->body, "from return\n");
  const auto log = read_file(server.dir() / "access.log");
  EXPECT_NE(log.find("\"GET /big.txt HTTP/2.0\" 206 10"), std::string::npos) << log;
  EXPECT_NE(log.find("\"HEAD /big.txt HTTP/2.0\" 200 0"), std::string::npos) << log;
  EXPECT_NE(log.find("\"GET /r HTTP/1.1\" 200 12"), std::string::npos) << log;
}

TEST(Http2Test, ManyStreamsOnOneConnectionWithJobsAnswerEachInFull) {
  Root root;
  ShoalServer server(site(root));
  const std::string base = "http://127.0.0.1:" + std::to_string(server.port());
  std::string uris;
  for (int i = 0; i < 8; ++i) {  // nghttp fetches a URI once: each has its own query
    const auto q = "?" + std::to_string(i);
    uris += " " + base + "/short" + q + " " + base + "/big.txt" + q + " " + base + "/r" + q;
  }
  auto r = run_command("timeout 30 nghttp -nv" + uris);
  EXPECT_EQ(r.status, 0) << r.output.substr(0, 2000);
  EXPECT_EQ(count(r.output, ":status: 200"), 24u) << r.output.substr(0, 2000);
  // One connection: one SETTINGS from the server, every stream on it.
  EXPECT_EQ(count(r.output, "recv SETTINGS frame <length=18"), 1u);
  EXPECT_EQ(count(r.output, "RST_STREAM"), 0u);
}

TEST(Http2Test, RequestBodiesStreamToTheProxyAndItsAnswerComesBack) {
  Upstream upstream;
  Root root;
  ShoalServer server(site(root, "", upstream.address()));
  std::string body(1024 * 1024, 'b');
  write_file(server.dir() / "body.bin", body);
  // No Content-Length on HTTP/2 (curl sends one; nghttp -d does not): chunked upstream.
  auto r =
      run_command(h2c(server.port(), "/up/echo", "--data-binary @" + server.dir() / "body.bin"));
  EXPECT_NE(r.output.find("POST /echo"), std::string::npos) << r.output.substr(0, 500);
  EXPECT_NE(r.output.find(std::string(1000, 'b')), std::string::npos);
  EXPECT_EQ(r.output.size() - r.output.find("\n\n") - 2, body.size());
  // A body without a length (nghttp and curl send one; python3-h2 does not): chunked up.
  auto chunked = python_h2(server.port(), kPythonClient + R"(
sid = conn.get_next_available_stream_id()
conn.send_headers(sid, [(":method", "POST"), (":path", "/up/echo"), (":scheme", "http"),
                        (":authority", "localhost")])
for _ in range(4):
    conn.send_data(sid, b"c" * 16000)
    sock.sendall(conn.data_to_send())
conn.end_stream(sid)
sock.sendall(conn.data_to_send())
seen = events(lambda seen: any(isinstance(e, h2.events.StreamEnded) for e in seen))
body = b"".join(e.data for e in seen if isinstance(e, h2.events.DataReceived))
print(body.split(b"\n\n")[0].decode(), "\nbody", len(body.split(b"\n\n", 1)[1]))
)");
  EXPECT_NE(chunked.output.find("Transfer-Encoding: chunked"), std::string::npos) << chunked.output;
  EXPECT_NE(chunked.output.find("body 64000"), std::string::npos) << chunked.output;
  // Cookie crumbs are one field again for the HTTP/1.1 upstream.
  auto cookies = run_command(h2c(server.port(), "/up/echo", "-H 'Cookie: a=1' -H 'Cookie: b=2'"));
  EXPECT_NE(cookies.output.find("ookie: a=1; b=2\n"), std::string::npos) << cookies.output;
}

TEST(Http2Test, AReloadSendsGoawayTwiceAndFinishesTheStreamInFlight) {
  Root root;
  ShoalServer server(site(root));
  // Frames are read raw (hyperframe): python3-h2 ends its connection at the first GOAWAY,
  // where HTTP/2 lets the streams below its id finish.
  auto r = python_h2(server.port(), kPythonClient + R"(
import subprocess, hpack
from hyperframe.frame import Frame, GoAwayFrame, HeadersFrame, DataFrame, PingFrame
sid = request("/nap")
subprocess.run([")" + std::string(SHOAL_BINARY) +
                                        R"(", "-c", ")" + server.config_path() +
                                        R"(", "-s", "reload"], check=True)
decoder, buf, goaways, status, ended = hpack.Decoder(), b"", [], [], []
def more():
    global buf
    data = sock.recv(65536)
    buf += data
    return bool(data)
while True:
    if len(buf) < 9 and not more():
        break
    if len(buf) < 9:
        continue
    frame, length = Frame.parse_frame_header(memoryview(buf[:9]))
    if len(buf) < 9 + length:
        if not more():
            break
        continue
    frame.parse_body(memoryview(buf[9:9 + length]))
    buf = buf[9 + length:]
    if isinstance(frame, GoAwayFrame):
        goaways.append(frame.last_stream_id)
    elif isinstance(frame, PingFrame) and "ACK" not in frame.flags:
        sock.sendall(PingFrame(0, frame.opaque_data, flags=["ACK"]).serialize())
    elif isinstance(frame, HeadersFrame):
        status += [v for k, v in decoder.decode(frame.data) if k == ":status"]
    if "END_STREAM" in frame.flags and frame.stream_id:
        ended.append(frame.stream_id)
print("goaways", goaways, "status", status, "ended", ended)
)");
  EXPECT_EQ(r.status, 0) << r.output;
  // First the maximum id (nothing refused yet), then the last stream processed: ours; the
  // nap (600 ms) ends after both, and then the connection closes.
  EXPECT_NE(r.output.find("goaways [2147483647, 1] status ['200'] ended [1]"), std::string::npos)
      << r.output;
}

TEST(Http2Test, BadFramesEndTheConnectionWithGoawayAndTheWorkerServesOn) {
  Root root;
  ShoalServer server(site(root));
  // HEADERS again on a stream that ended is a connection error (RFC 9113 §5.1, "closed"):
  // GOAWAY with STREAM_CLOSED. Then a preface followed by bytes that are no frame: closed.
  auto r = python_h2(server.port(), kPythonClient + R"(
import struct
request("/r")
events(lambda seen: any(isinstance(e, h2.events.StreamEnded) for e in seen))
block = conn.encoder.encode([(":method", "GET"), (":path", "/r"), (":scheme", "http"),
                             (":authority", "x")])
sock.sendall(struct.pack(">I", len(block))[1:] + bytes([1, 5]) + struct.pack(">I", 1) + block)
seen = events(lambda seen: "closed" in seen or
              any(isinstance(e, h2.events.ConnectionTerminated) for e in seen))
print("codes", [int(e.error_code) for e in seen if isinstance(e, h2.events.ConnectionTerminated)])
raw = socket.create_connection(("127.0.0.1", int(os.environ["PORT"])))
raw.sendall(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + b"\xff" * 64)
raw.settimeout(10)
got = b""
while True:
    data = raw.recv(65536)
    if not data:
        break
    got += data
from hyperframe.frame import Frame, GoAwayFrame
codes = []
while len(got) >= 9:
    frame, length = Frame.parse_frame_header(memoryview(got[:9]))
    frame.parse_body(memoryview(got[9:9 + length]))
    got = got[9 + length:]
    if isinstance(frame, GoAwayFrame):
        codes.append(int(frame.error_code))
print("garbage closed, goaway", codes)  # a recv timeout would fail the script
)");
  EXPECT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("codes [5]"), std::string::npos) << r.output;  // STREAM_CLOSED
  // The first bytes after the preface must be a SETTINGS frame (RFC 9113 §3.4).
  EXPECT_NE(r.output.find("garbage closed, goaway [1]"), std::string::npos) << r.output;
  EXPECT_EQ(run_command(h2c(server.port(), "/r")).output, "from return\n");
  EXPECT_EQ(server.children().size(), 1u);
  EXPECT_EQ(server.error_log().find("[error]"), std::string::npos) << server.error_log();
}

// A header block over http2.max_header_fields, or over max_header_list (each field counted with
// its 32 bytes, RFC 7541 §4.1), is answered 431, and the connection serves on.
TEST(Http2Test, AHeaderListOverItsLimitsIs431) {
  Root root;
  ShoalServer server("http2: { max_header_fields: 20, max_header_list: 2k }\n" + site(root));
  std::string many;
  for (int i = 0; i < 25; ++i) many += " -H 'X-F" + std::to_string(i) + ": v'";
  const auto code = " -o /dev/null -w '%{http_code}'";
  EXPECT_EQ(run_command(h2c(server.port(), "/r", many + code)).output, "431");
  // 12 fields of about 210 bytes fit the count but not the list: 12 x (210 + 32) > 2048.
  std::string big;
  for (int i = 0; i < 12; ++i) {
    big += " -H 'X-B" + std::to_string(i) + ": " + std::string(200, 'v') + "'";
  }
  EXPECT_EQ(run_command(h2c(server.port(), "/r", big + code)).output, "431");
  EXPECT_EQ(run_command(h2c(server.port(), "/r", code)).output, "200");
}

// The two floods libnghttp2's options bound: streams opened and reset at once (Rapid Reset,
// CVE-2023-44487) and a header block that never ends (CONTINUATION flood, CVE-2024-27316).
// Each connection ends with a GOAWAY; the worker serves another client meanwhile.
TEST(Http2Test, RapidResetAndContinuationFloodsEndTheirConnection) {
  Root root;
  ShoalServer server(site(root));
  auto r = python_h2(server.port(), R"(
import os, socket, struct, hpack
from hyperframe.frame import (Frame, HeadersFrame, RstStreamFrame, ContinuationFrame,
                              GoAwayFrame, SettingsFrame)
def connect():
    s = socket.create_connection(("127.0.0.1", int(os.environ["PORT"])))
    s.sendall(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + SettingsFrame(0).serialize())
    s.settimeout(20)
    return s
def goaway_codes(s):
    buf, codes = b"", []
    while True:
        try:
            data = s.recv(65536)
        except ConnectionResetError:
            break
        if not data:
            break
        buf += data
        while len(buf) >= 9:
            frame, length = Frame.parse_frame_header(memoryview(buf[:9]))
            if len(buf) < 9 + length:
                break
            frame.parse_body(memoryview(buf[9:9 + length]))
            buf = buf[9 + length:]
            if isinstance(frame, GoAwayFrame):
                codes.append(frame.error_code)
    return codes
encoder = hpack.Encoder()
rapid = connect()
flood = b""
for i in range(5000):
    block = encoder.encode([(":method", "GET"), (":path", "/r"), (":scheme", "http"),
                            (":authority", "x")])
    flood += HeadersFrame(1 + 2 * i, block, flags=["END_HEADERS"]).serialize()
    flood += RstStreamFrame(1 + 2 * i, error_code=8).serialize()
try:
    rapid.sendall(flood)
except (BrokenPipeError, ConnectionResetError):
    pass
print("rapid reset goaway", goaway_codes(rapid)[-1:])
continuation = connect()
block = hpack.Encoder().encode([(":method", "GET"), (":path", "/r"), (":scheme", "http")])
frames = HeadersFrame(1, block).serialize()
for i in range(100):
    frames += ContinuationFrame(1, b"\x40\x01a\x01b").serialize()  # literal a: b, no end
try:
    continuation.sendall(frames)
except (BrokenPipeError, ConnectionResetError):
    pass
print("continuation goaway", goaway_codes(continuation)[-1:])
)");
  EXPECT_EQ(r.status, 0) << r.output;
  // nghttp2's reset rate limit ends the connection with INTERNAL_ERROR.
  EXPECT_NE(r.output.find("rapid reset goaway [2]"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("continuation goaway [11]"), std::string::npos)  // ENHANCE_YOUR_CALM
      << r.output;
  EXPECT_EQ(run_command(h2c(server.port(), "/r")).output, "from return\n");
  EXPECT_EQ(server.children().size(), 1u);
}

// HPACK bomb: one 4,000-byte field put in the dynamic table, then referenced 200 times with a
// byte each (a 4 KB block that decodes to 800 KB): counted field by field against
// max_header_list, it is 431, and nothing of it is kept. Then a SETTINGS and PING flood sent
// without reading a byte of the ACKs: the connection ends (nghttp2 bounds the ACKs it queues),
// and the worker serves another client.
TEST(Http2Test, AnHpackBombIs431AndASettingsAndPingFloodEndsItsConnection) {
  Root root;
  ShoalServer server(site(root));
  auto r = python_h2(server.port(), kRawRequest + R"(
from hyperframe.frame import Frame
s = socket.create_connection(("127.0.0.1", int(os.environ["PORT"])))
s.sendall(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + SettingsFrame(0).serialize())
block = hpack.Encoder().encode([(":method", "GET"), (":path", "/r"), (":scheme", "http"),
                                (":authority", "x"), ("x-bomb", "b" * 4000)])
index = bytes([0x80 | 62])  # the dynamic table's newest entry: x-bomb
s.sendall(HeadersFrame(1, block + index * 200, flags=["END_HEADERS", "END_STREAM"]).serialize())
s.settimeout(10)
decoder, buf, status = hpack.Decoder(), b"", None
while status is None:
    buf += s.recv(65536)
    while len(buf) >= 9 and status is None:
        frame, length = Frame.parse_frame_header(memoryview(buf[:9]))
        if len(buf) < 9 + length:
            break
        frame.parse_body(memoryview(buf[9:9 + length]))
        buf = buf[9 + length:]
        if isinstance(frame, HeadersFrame):
            status = dict(decoder.decode(frame.data))[":status"]
print("bomb status", status)
flood = socket.create_connection(("127.0.0.1", int(os.environ["PORT"])))
flood.sendall(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n")
burst = (SettingsFrame(0).serialize() + PingFrame(0, b"12345678").serialize()) * 5000
try:
    for _ in range(10):
        flood.sendall(burst)
except (BrokenPipeError, ConnectionResetError):
    pass
flood.settimeout(10)
got = b""
try:
    while True:
        data = flood.recv(1 << 20)
        if not data:
            break
        got += data
except ConnectionResetError:
    pass
print("flood closed after", len(got), "bytes")  # a recv timeout would fail the script
)");
  EXPECT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("bomb status 431"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("flood closed"), std::string::npos) << r.output;
  EXPECT_EQ(run_command(h2c(server.port(), "/r")).output, "from return\n");
  EXPECT_EQ(server.children().size(), 1u);
}

// A client that never opens its window again: the response stalls with nothing blocked in
// the socket, so only a deadline of its own ends it (send_timeout from when it stalled; the
// connection's PINGs meanwhile do not renew it).
TEST(Http2Test, AResponseStalledAtAZeroWindowIsDroppedAfterSendTimeout) {
  Root root;
  ShoalServer server("limits: { send_timeout: 1s }\n" + site(root));
  auto r = python_h2(server.port(), kRawRequest + R"(
s = raw_request("GET", "/big.txt", ["END_HEADERS", "END_STREAM"])
s.settimeout(0.3)
got, start = 0, time.monotonic()
while time.monotonic() - start < 15:
    try:
        data = s.recv(65536)
    except socket.timeout:
        s.sendall(PingFrame(0, b"12345678").serialize())  # alive, but no WINDOW_UPDATE
        continue
    except ConnectionResetError:
        break
    if not data:
        break
    got += len(data)
print("closed" if time.monotonic() - start < 15 else "still open", "after", got, "bytes")
)");
  EXPECT_NE(r.output.find("closed after"), std::string::npos) << r.output;
  EXPECT_TRUE(wait_until([&] {
    return server.error_log().find("timed out reading the response (HTTP/2)") != std::string::npos;
  })) << server.error_log();
  EXPECT_EQ(run_command(h2c(server.port(), "/r")).output, "from return\n");
}

// A request whose body never comes (a static route: no job to time it) holds its stream
// only for header_timeout, as an HTTP/1.1 body's pauses do.
TEST(Http2Test, ARequestThatNeverEndsIsCutAtHeaderTimeout) {
  Root root;
  ShoalServer server("limits: { header_timeout: 1s }\n" + site(root));
  auto r = python_h2(server.port(), kRawRequest + R"(
s = raw_request("POST", "/index.html", ["END_HEADERS"])  # and no body, ever
s.settimeout(15)
start = time.monotonic()
try:
    while s.recv(65536):
        pass
except (socket.timeout, ConnectionResetError):
    pass
print("closed" if time.monotonic() - start < 14 else "still open")
)");
  EXPECT_NE(r.output.find("closed"), std::string::npos) << r.output;
  EXPECT_TRUE(wait_until([&] {
    return server.error_log().find("timed out sending its request (HTTP/2)") != std::string::npos;
  })) << server.error_log();
}

// A graceful stop with drain_delay: HTTP/1.1 answers with Connection: close meanwhile, HTTP/2
// with its GOAWAY pair on the next response; the request itself is answered.
TEST(Http2Test, DrainDelayAnswersThenSendsGoaway) {
  Root root;
  ShoalServer server("drain_delay: 2s\n" + site(root));
  auto r = python_h2(server.port(), kPythonClient + R"(
import signal, time
from hyperframe.frame import Frame, GoAwayFrame, HeadersFrame, PingFrame
request("/r")
events(lambda seen: any(isinstance(e, h2.events.StreamEnded) for e in seen))
os.kill()" + std::to_string(server.pid()) +
                                        R"(, signal.SIGQUIT)
time.sleep(0.5)
request("/r")
decoder, buf, goaways, status = hpack.Decoder(), b"", [], []
sock.settimeout(10)
while True:
    data = sock.recv(65536)
    if not data:
        break
    buf += data
    while len(buf) >= 9:
        frame, length = Frame.parse_frame_header(memoryview(buf[:9]))
        if len(buf) < 9 + length:
            break
        frame.parse_body(memoryview(buf[9:9 + length]))
        buf = buf[9 + length:]
        if isinstance(frame, GoAwayFrame):
            goaways.append(frame.last_stream_id)
            status.append("goaway")
        elif isinstance(frame, PingFrame) and "ACK" not in frame.flags:
            sock.sendall(PingFrame(0, frame.opaque_data, flags=["ACK"]).serialize())
        elif isinstance(frame, HeadersFrame) and frame.stream_id == 3:
            status.append("status " + dict(conn.decoder.decode(frame.data))[":status"])
print("goaways", goaways, "order", status)
)");
  EXPECT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("goaways [2147483647, 3]"), std::string::npos) << r.output;
  // The GOAWAY goes out with the answer, not two seconds later at the drain itself.
  EXPECT_NE(r.output.find("order ['goaway', 'status 200', 'goaway']"), std::string::npos)
      << r.output;
}

// A request body over limits.max_body_bytes to a job is 413 before the job's head is out.
TEST(Http2Test, ABodyOverMaxBodyBytesIs413) {
  Root root;
  ShoalServer server("limits: { max_body_bytes: 1k }\n" + site(root));
  write_file(root / "body.bin", std::string(8000, 'x'));
  auto r =
      run_command(h2c(server.port(), "/nap",
                      "--data-binary @" + root / "body.bin" + " -o /dev/null -w '%{http_code}'"));
  EXPECT_EQ(r.output, "413");
  EXPECT_EQ(run_command(h2c(server.port(), "/r")).output, "from return\n");
}

TEST(Http2Test, AListenEntryWithHttp2FalseSpeaksOnlyHttp11) {
  const int other = free_port();
  Root root;
  ShoalServer server(
      site(root, ", { address: \"127.0.0.1:" + std::to_string(other) + "\", http2: false }"));
  EXPECT_EQ(run_command(h2c(server.port(), "/r")).output, "from return\n");
  // The preface is an HTTP/1.1 request line with version 2.0 there: refused as HTTP/1.1.
  auto refused = run_command(h2c(other, "/r", "-o /dev/null -w '%{http_code}'"));
  EXPECT_EQ(refused.output.find("200"), std::string::npos) << refused.output;
  auto one = get(other, "/r");
  ASSERT_TRUE(one);
  EXPECT_EQ(one->status, 200);
  auto dump = run_shoal({"-T", "-c", server.config_path()}, server.dir());
  EXPECT_NE(dump.output.find("http2: false"), std::string::npos) << dump.output;
  EXPECT_NE(dump.output.find("max_concurrent_streams: 128"), std::string::npos) << dump.output;
}

}  // namespace
}  // namespace shoal::test
