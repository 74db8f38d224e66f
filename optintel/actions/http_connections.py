"""Keep-alive HTTP/1.1 connections for the sending loop, on asyncio's transports with the
httptools parser (llhttp): pooled by scheme, the address connected to, port and host name; an
answer is read to its end, its first bytes kept, so that its connection can carry the next
request. A connection whose exchange did not end cleanly (an error, a timeout, an answer that
ends with the connection) is closed, never used again."""
import asyncio
import ssl
from dataclasses import dataclass

import httptools

# An idle connection is closed after this many seconds.
IDLE_SECONDS = 15.0
# The status line and headers of an answer may not be longer than this.
HEAD_LIMIT = 65536


class ServerDisconnected(ConnectionError):
    """The connection ended before the answer did."""


class BadAnswer(Exception):
    """What the target sent is not an HTTP/1.1 answer we accept."""


@dataclass
class Answer:
    status: int
    headers: list  # (name, value) pairs, as received
    excerpt: bytes


class _Connection(asyncio.Protocol):
    """One connection: one exchange at a time, its answer parsed as it arrives."""

    def __init__(self):
        self.transport = self.idle_since = None
        self.lost = self._keep_alive = False
        self._parser = httptools.HttpResponseParser(self)
        self._answer = None

    def exchange(self, request, excerpt_limit):
        """Write a request; a future of its Answer, which keeps the first `excerpt_limit` bytes
        of the body."""
        self._answer = asyncio.get_running_loop().create_future()
        self._excerpt_limit = excerpt_limit
        self._status, self._headers, self._excerpt = None, [], bytearray()
        self._head_bytes, self._framed = 0, False
        self.transport.write(request)
        return self._answer

    @property
    def heard_nothing(self):
        """No byte of an answer to the last request arrived."""
        return self._head_bytes == 0

    @property
    def reusable(self):
        return not self.lost and self._keep_alive

    def close(self):
        self.lost = True
        if self.transport is not None:
            self.transport.close()

    # asyncio.Protocol

    def connection_made(self, transport):
        self.transport = transport

    def data_received(self, data):
        if self._answer is None or self._answer.done():
            # Bytes that answer nothing: the connection cannot be trusted again.
            self.close()
            return
        if self._status is None:
            # Informational answers count too: their stream must end.
            self._head_bytes += len(data)
            if self._head_bytes > HEAD_LIMIT:
                self._fail(BadAnswer(f"The answer's headers are longer than {HEAD_LIMIT} bytes."))
                return
        try:
            self._parser.feed_data(data)
        except httptools.HttpParserError as exc:
            self._fail(BadAnswer(f"The answer is not valid HTTP: {exc}"))

    def connection_lost(self, exc):
        self.lost = True
        if self._answer is None or self._answer.done():
            return
        if self._status is not None and not self._framed:
            # An answer without a length ends with its connection.
            self._keep_alive = False
            self._answer.set_result(Answer(self._status, self._headers, bytes(self._excerpt)))
        else:
            self._fail(ServerDisconnected("The connection closed before the answer ended."))

    # httptools callbacks

    def on_message_begin(self):
        if self._answer.done():
            # A second answer to one request: the connection cannot be trusted again.
            raise BadAnswer("More than one answer arrived.")

    def on_header(self, name, value):
        self._headers.append((name.decode("latin-1"), value.decode("utf-8", "replace")))

    def on_headers_complete(self):
        status = self._parser.get_status_code()
        if status >= 200:
            self._status = status
            self._framed = status in (204, 304) or any(
                name.lower() in ("content-length", "transfer-encoding")
                for name, _ in self._headers)

    def on_body(self, body):
        room = self._excerpt_limit - len(self._excerpt)
        if room > 0:
            self._excerpt += body[:room]

    def on_message_complete(self):
        if self._status is None:
            # An informational answer (100 Continue): the real one follows.
            self._headers = []
            return
        self._keep_alive = self._parser.should_keep_alive()
        if not self._answer.done():
            self._answer.set_result(Answer(self._status, self._headers, bytes(self._excerpt)))

    def _fail(self, exc):
        self.close()
        if not self._answer.done():
            self._answer.set_exception(exc)


class Pool:
    """The connections of one loop, idle ones by (scheme, address, port, host)."""

    def __init__(self):
        self._idle, self._sweep = {}, None
        # Made on the first https request: it reads the trusted certificates then.
        self._ssl_context = None

    async def request(self, scheme, address, port, host, request, excerpt_limit):
        """Send the bytes of one request to `address` (a TLS certificate is checked against
        `host`) and read its answer to the end; the Answer."""
        key = (scheme, address, port, host)
        connection = self._take(key)
        if connection is not None:
            try:
                return await self._exchange(key, connection, request, excerpt_limit)
            except ServerDisconnected:
                if not connection.heard_nothing:
                    raise
                # The target closed the idle connection as the request went out, before a
                # byte of an answer: the request is sent once more, on a new connection.
        connection = await self._connect(key)
        return await self._exchange(key, connection, request, excerpt_limit)

    async def _exchange(self, key, connection, request, excerpt_limit):
        try:
            answer = await connection.exchange(request, excerpt_limit)
        except BaseException:
            connection.close()
            raise
        if connection.reusable:
            self._put(key, connection)
        else:
            connection.close()
        return answer

    def _take(self, key):
        connections, now = self._idle.get(key), asyncio.get_running_loop().time()
        while connections:
            connection = connections.pop()
            if not connection.lost and now - connection.idle_since < IDLE_SECONDS:
                return connection
            connection.close()
        return None

    def _put(self, key, connection):
        loop = asyncio.get_running_loop()
        connection.idle_since = loop.time()
        self._idle.setdefault(key, []).append(connection)
        # One timer for the pool, not one a connection: a timer made and cancelled for each
        # request costs more than the request's own bookkeeping.
        if self._sweep is None:
            self._sweep = loop.call_later(IDLE_SECONDS, self._close_idle)

    def _close_idle(self):
        """Close the connections idle for IDLE_SECONDS; look again when the next one will
        have been."""
        loop = asyncio.get_running_loop()
        now, self._sweep = loop.time(), None
        for key, connections in list(self._idle.items()):
            for connection in connections:
                if connection.lost or now - connection.idle_since >= IDLE_SECONDS:
                    connection.close()
            self._idle[key] = [connection for connection in connections if not connection.lost]
            if not self._idle[key]:
                del self._idle[key]
        if self._idle:
            oldest = min(connection.idle_since for connections in self._idle.values()
                         for connection in connections)
            self._sweep = loop.call_later(max(oldest + IDLE_SECONDS - now, 0.01),
                                          self._close_idle)

    async def _connect(self, key):
        scheme, address, port, host = key
        tls = scheme == "https"
        _, connection = await asyncio.get_running_loop().create_connection(
            _Connection, address, port,
            ssl=self._tls_context() if tls else None, server_hostname=host if tls else None)
        return connection

    def _tls_context(self):
        if self._ssl_context is None:
            self._ssl_context = ssl.create_default_context()
        return self._ssl_context
