#!/usr/bin/env python3
"""A slow or lying HTTP client, for serve's limits on uploads (ServeTests.slowClients).

    slow-client.py head   URL   the request head, one more header line every 0.5 s, never ending
    slow-client.py body   URL   a whole head (Content-Length: 100000), then 10 bytes of body every 0.5 s
    slow-client.py length URL   a head claiming a body of 10^12 bytes, then nothing

URL is http://host:port/path?query. Prints one JSON line: "status" (the answer's HTTP status, or
null when the server closed without one), "seconds" until it answered or closed, "sent" (bytes
the server took). Gives up after 60 s ("status": "gave up"): a server that lets a client trickle
forever.
"""
import json, select, socket, sys, time, urllib.parse

mode, url = sys.argv[1], urllib.parse.urlsplit(sys.argv[2])
target = url.path + ("?" + url.query if url.query else "")
head = f"POST {target} HTTP/1.1\r\nHost: {url.hostname}\r\nContent-Type: application/x-www-form-urlencoded\r\n"
if mode == "head":
    first, chunks = head, (f"X-Trickle-{i}: {i}\r\n" for i in range(10**6))
elif mode == "body":
    first, chunks = head + "Content-Length: 100000\r\n\r\n", ("x" * 10 for _ in range(10**6))
elif mode == "length":
    first, chunks = head + f"Content-Length: {10**12}\r\n\r\n", iter(())
else:
    sys.exit(__doc__)

started = time.monotonic()
connection = socket.create_connection((url.hostname, url.port), timeout=5)
answer, sent, status = b"", 0, "gave up"
try:
    connection.sendall(first.encode())
    sent += len(first)
    while time.monotonic() - started < 60:
        readable, _, _ = select.select([connection], [], [], 0.5)
        if readable:
            data = connection.recv(65536)
            if not data:  # closed: an answer we have, or none
                status = int(answer.split(b" ", 2)[1]) if answer.startswith(b"HTTP/") else None
                break
            answer += data
            if b"\r\n\r\n" in answer:
                status = int(answer.split(b" ", 2)[1])
                break
            continue
        chunk = next(chunks, None)
        if chunk is not None:
            connection.sendall(chunk.encode())
            sent += len(chunk)
except (BrokenPipeError, ConnectionResetError):
    status = int(answer.split(b" ", 2)[1]) if answer.startswith(b"HTTP/") else None
print(json.dumps({"status": status, "seconds": round(time.monotonic() - started, 2), "sent": sent}))
