#!/usr/bin/env python3
"""The conformance fixture's upstream: a real HTTP server (standard library only) whose
operations answer what the MCP conformance suite expects of tools and resources, and a
202-and-poll job API for its tasks scenarios.
Usage: upstream.py PORT"""

import base64
import itertools
import json
import struct
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

# A 1x1 transparent PNG.
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=="
)


def wav() -> bytes:
    """A valid 10 ms mono 8 kHz 8-bit silence WAV."""
    samples = b"\x80" * 80
    fmt = struct.pack("<4sIHHIIHH", b"fmt ", 16, 1, 1, 8000, 8000, 1, 8)
    data = struct.pack("<4sI", b"data", len(samples)) + samples
    return struct.pack("<4sI4s", b"RIFF", 4 + len(fmt) + len(data), b"WAVE") + fmt + data


ROUTES = {
    "/text": (200, "text/plain; charset=utf-8", b"This is a simple text response for testing."),
    "/image": (200, "image/png", PNG),
    "/audio": (200, "audio/wav", wav()),
    "/document": (200, "application/octet-stream", b"%PDF-1.4 conformance test document\n"),
    "/status": (200, "application/json", json.dumps({"status": "ok", "steps": 3}).encode()),
    # A report with a caption, a picture and a record: one answer, three content blocks.
    "/report": (200, "application/json", json.dumps({
        "caption": "Multiple content types test:",
        "picture": base64.b64encode(PNG).decode(),
        "record": {"test": "data", "value": 123},
    }).encode()),
    "/fail": (500, "application/json", json.dumps({"error": "This tool intentionally returns an error for testing"}).encode()),
    "/resources/static-text": (200, "text/plain", b"This is the content of the static text resource."),
    "/resources/static-binary": (200, "image/png", PNG),
    "/resources/example": (200, "text/plain", b"Embedded resource content for testing."),
    "/resources/watched": (200, "text/plain", b"A resource clients subscribe to."),
}


# The jobs of the 202-and-poll API: id -> {kind, started, seconds, label, name, cancelled}.
JOBS = {}
JOBS_LOCK = threading.Lock()
NEXT_ID = itertools.count(1)
JOB_KINDS = {"/jobs": "compute", "/failing-jobs": "failing", "/broken-jobs": "broken", "/greeting-jobs": "greeting"}


def start_job(path: str, query: dict):
    """`POST /jobs?seconds=&label=` (and the other kinds): 202 with the job's status URL."""
    job = {
        "kind": JOB_KINDS[path],
        "started": time.monotonic(),
        "seconds": float(query.get("seconds", ["0"])[0] or 0),
        "label": query.get("label", [""])[0],
        "name": query.get("name", [""])[0],
        "cancelled": False,
    }
    job_id = f"job-{next(NEXT_ID)}"
    with JOBS_LOCK:
        JOBS[job_id] = job
    body = json.dumps({"id": job_id, "status": "working"}).encode()
    return 202, "application/json", body, {"Location": f"/jobs/{job_id}"}


def job_status(job_id: str):
    """`GET /jobs/{id}`: working until the job ends, then completed, failed or cancelled."""
    with JOBS_LOCK:
        job = JOBS.get(job_id)
    if job is None:
        return 404, "text/plain", b"no such job"
    if job["kind"] == "broken":
        return 500, "text/plain", b"the job runner crashed"
    elapsed = time.monotonic() - job["started"]
    doc = {"id": job_id, "status": "working"}
    if job["cancelled"]:
        doc["status"] = "cancelled"
    elif job["kind"] == "compute" and elapsed >= job["seconds"]:
        doc["status"] = "completed"
        doc["result"] = {"label": job["label"], "seconds": job["seconds"],
                         "message": f"Computed {job['label'] or 'the job'} in {job['seconds']:g} s."}
    elif job["kind"] == "failing" and elapsed >= 1:
        doc["status"] = "failed"
        doc["error"] = {"message": "This job intentionally fails for testing"}
    elif job["kind"] == "greeting":
        doc["status"] = "completed"
        doc["result"] = {"greeting": f"Hello, {job['name']}!"}
    return 200, "application/json", json.dumps(doc).encode()


def route(path: str, query: dict, headers):
    """The fixed routes, and those answering from the request: the templated
    `/resources/template/{id}` (JSON naming the id), `/greeting?name=` and `/region`."""
    if path == "/greeting":
        return 200, "text/plain", f"Hello, {query.get('name', [''])[0]}!".encode()
    if path == "/region":
        return 200, "text/plain", f"Region: {headers.get('X-Region', '')}".encode()
    if path.startswith("/jobs/"):
        return job_status(path[len("/jobs/"):])
    if path.startswith("/resources/template/"):
        item = path[len("/resources/template/"):]
        body = {"id": item, "templateTest": True, "data": f"Data for ID: {item}"}
        return 200, "application/json", json.dumps(body).encode()
    return ROUTES.get(path, (404, "text/plain", b"not found"))


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self):  # noqa: N802 (http.server's naming)
        url = urlsplit(self.path)
        self.answer(*route(url.path, parse_qs(url.query), self.headers))

    def do_POST(self):  # noqa: N802
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        url = urlsplit(self.path)
        if url.path in JOB_KINDS:
            self.answer(*start_job(url.path, parse_qs(url.query)))
        elif url.path == "/contacts":
            self.answer(201, "text/plain", b"Contact saved.")
        else:
            self.answer(404, "text/plain", b"not found")

    def do_DELETE(self):  # noqa: N802
        path = urlsplit(self.path).path
        if path.startswith("/jobs/"):
            with JOBS_LOCK:
                job = JOBS.get(path[len("/jobs/"):])
                if job is not None:
                    job["cancelled"] = True
            self.answer(204 if job else 404, "text/plain", b"")
        elif path == "/records":
            self.answer(200, "text/plain", b"Deleted the test records (state-ok).")
        else:
            self.answer(404, "text/plain", b"not found")

    def answer(self, status, ctype, body, headers=None):
        self.send_response(status)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, fmt, *args):
        pass


if __name__ == "__main__":
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 8765
    ThreadingHTTPServer(("127.0.0.1", port), Handler).serve_forever()
