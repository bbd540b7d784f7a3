#!/usr/bin/env python3
"""A tracking server that takes no time: the floor of any server through MLflow's client.

    python bench/mlflow/noop_server.py PORT                  answers every request `200 {}` at once
    python bench/mlflow/noop_server.py PORT --replay URL     answers each request as URL answered it the first
                                                             time (forwarded once, then from memory)

bench/mlflow/run.sh points MLflow's client at it to measure the client's own cost per call (building the
request, `requests`, reading and parsing the answer): no server can make a call through the same client cheaper.
`{}` serves the write calls (log_metric, log_batch); the replay serves the reads (search_runs,
get_metric_history), whose cost is mostly the client parsing the answer: replaying Quill's own answers, the
client does all of its work and the server none. Kept-alive connections; standard library only.
"""
import argparse
import asyncio
import http.client
import urllib.parse

EMPTY = (200, b"{}")


class Replay:
    """Forwards a request the first time it is seen and keeps the answer: (method, target, body) -> answer."""

    def __init__(self, upstream):
        parts = urllib.parse.urlsplit(upstream)
        self.host, self.port = parts.hostname, parts.port or 80
        self.answers = {}

    def fetch(self, method, target, body):
        key = (method, target, body)
        if key not in self.answers:
            connection = http.client.HTTPConnection(self.host, self.port, timeout=600)
            headers = {"Content-Type": "application/json"} if body else {}
            connection.request(method, target, body=body or None, headers=headers)
            response = connection.getresponse()
            self.answers[key] = (response.status, response.read())
            connection.close()
        return self.answers[key]


async def handle(reader, writer, replay):
    loop = asyncio.get_running_loop()
    try:
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            lines = head.split(b"\r\n")
            method, target = lines[0].split(b" ")[:2]
            length = 0
            for line in lines[1:]:
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":", 1)[1])
            body = await reader.readexactly(length) if length else b""
            if replay is None:
                status, answer = EMPTY
            else:
                status, answer = await loop.run_in_executor(
                    None, replay.fetch, method.decode(), target.decode(), body)
            writer.write(b"HTTP/1.1 %d X\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n"
                         % (status, len(answer)) + answer)
            await writer.drain()
    except (asyncio.IncompleteReadError, ConnectionError):
        pass
    finally:
        writer.close()


async def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("port", type=int)
    parser.add_argument("--replay", metavar="URL", help="answer as this server answered, from memory")
    arguments = parser.parse_args()
    replay = Replay(arguments.replay) if arguments.replay else None
    server = await asyncio.start_server(lambda r, w: handle(r, w, replay), "127.0.0.1", arguments.port)
    print(f"listening on 127.0.0.1:{arguments.port}", flush=True)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(main())
