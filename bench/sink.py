"""A local HTTP sink for the benchmark: raw HTTP/1.1 with keep-alive on asyncio, answering every
request 200 at once, in a process of its own so that it never competes for the bench's GIL.

`GET /__stats` answers {"requests": n, "signed": m} (requests before it, and those that carried
a `webhook-signature` header); `GET /__last` answers the last request's headers and body."""
import argparse
import asyncio
import json

OK = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\nok"
STATS_PATH, LAST_PATH = b"/__stats", b"/__last"


class Sink:
    """What the sink received."""

    def __init__(self):
        self.requests = self.signed = 0
        self.last = (b"", b"")

    def stats(self):
        return {"requests": self.requests, "signed": self.signed}

    def last_request(self):
        head, body = self.last
        lines = head.decode("latin-1").split("\r\n")
        headers = dict(line.split(": ", 1) for line in lines[1:] if ": " in line)
        return {"request_line": lines[0], "headers": headers, "body": body.decode("utf-8")}


def _json_response(value):
    body = json.dumps(value).encode()
    return b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s" % (
        len(body), body)


def _content_length(lowered_head):
    start = lowered_head.find(b"\r\ncontent-length:")
    if start < 0:
        return 0
    end = lowered_head.find(b"\r\n", start + 2)
    return int(lowered_head[start + 17:end if end >= 0 else None])


class SinkProtocol(asyncio.Protocol):
    """One keep-alive connection; pipelined requests are answered in order, in one write."""

    def __init__(self, sink):
        self.sink, self.buffer, self.transport = sink, bytearray(), None

    def connection_made(self, transport):
        self.transport = transport

    def data_received(self, data):
        buffer, answers = self.buffer, []
        buffer += data
        while True:
            end = buffer.find(b"\r\n\r\n")
            if end < 0:
                break
            head = bytes(buffer[:end])
            lowered = head.lower()
            total = end + 4 + _content_length(lowered)
            if len(buffer) < total:
                break
            body = bytes(buffer[end + 4:total])
            del buffer[:total]
            path = head.split(b" ", 2)[1]
            if path == STATS_PATH:
                answers.append(_json_response(self.sink.stats()))
            elif path == LAST_PATH:
                answers.append(_json_response(self.sink.last_request()))
            else:
                self.sink.requests += 1
                if b"\r\nwebhook-signature:" in lowered:
                    self.sink.signed += 1
                self.sink.last = (head, body)
                answers.append(OK)
        if answers:
            self.transport.write(b"".join(answers))


async def serve(host, port):
    sink = Sink()
    server = await asyncio.get_running_loop().create_server(
        lambda: SinkProtocol(sink), host, port, backlog=1024, reuse_address=True)
    async with server:
        await server.serve_forever()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    try:
        asyncio.run(serve(args.host, args.port))
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
