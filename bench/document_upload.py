"""Documents, measured against a running server: upload throughput and the document list's latency.

- Upload throughput: POST /api/v1/documents/upload of a 1 MiB and a 10 MiB PDF-signed file, one at
  a time, `uploads` times each; MiB/s per upload (file bytes / wall time of the request, storage
  write included), reported as the median (and min / max). The body streams from a file on disk,
  so the client's memory is not what is measured.
- GET /api/v1/documents?limit=50 one request at a time on one keep-alive connection, `list_requests`
  times after 5 warm-up requests: p50 / p95 / p99 in milliseconds. The clinic is first topped up to
  `list_documents` small documents (kept, so later runs upload nothing).

The throughput uploads are deleted (soft) afterwards, so repeated runs list the same page. The demo
user (manage.py seed_demo) needs a patient; the first one of its clinic is used.

    python -m bench.document_upload --url http://127.0.0.1:8000 --uploads 5 --list-requests 200
"""

import argparse
import json
import os
import statistics
import tempfile
import uuid

from bench.http_client import DEMO_LOGIN, Client, add_server_arguments, latency_figures, print_figures

MIB = 1024 * 1024
SIZES_MIB = (1, 10)
LIST_PATH = "/api/v1/documents?limit=50"
WARM_UP = 5


def multipart_file(*, patient_id: int, size: int) -> tuple[tempfile.SpooledTemporaryFile, int, str]:
    """A multipart body with a `size`-byte file (PDF signature, random bytes), written to disk."""
    boundary = f"bench-{uuid.uuid4().hex}"
    body = tempfile.TemporaryFile()  # noqa: SIM115 (returned open; the caller closes it)
    for name, value in (
        ("patient_id", str(patient_id)),
        ("category", "imaging"),
        ("title", "Benchmark scan"),
    ):
        body.write(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
        )
    body.write(
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="bench.pdf"\r\n'
        "Content-Type: application/pdf\r\n\r\n".encode()
    )
    body.write(b"%PDF-1.4\n")
    remaining = size - 9
    while remaining > 0:
        block = os.urandom(min(remaining, MIB))
        body.write(block)
        remaining -= len(block)
    body.write(f"\r\n--{boundary}--\r\n".encode())
    length = body.tell()
    return body, length, boundary


def first_patient_id(client: Client) -> int:
    status, data, _ = client.call("GET", "/api/v1/patients?limit=1&fields=id&ordering=id")
    items = json.loads(data).get("items") if status == 200 else None
    if not items:
        raise RuntimeError(f"the demo clinic has no patient (GET /patients answered {status})")
    return items[0]["id"]


def upload_throughput(client: Client, *, patient_id: int, size_mib: int, uploads: int) -> dict:
    size = size_mib * MIB
    body, length, boundary = multipart_file(patient_id=patient_id, size=size)
    rates, created, failures = [], [], 0
    try:
        for _ in range(uploads):
            body.seek(0)
            headers = {
                "Content-Type": f"multipart/form-data; boundary={boundary}",
                "Content-Length": str(length),
            }
            status, data, elapsed_ms = client.call("POST", "/api/v1/documents/upload", body, headers)
            if status != 201:
                failures += 1
                continue
            created.append(json.loads(data)["id"])
            rates.append(size / MIB / (elapsed_ms / 1000))
    finally:
        body.close()
    for document_id in created:
        client.call("DELETE", f"/api/v1/documents/{document_id}")
    return {
        "size_mib": size_mib,
        "uploads": len(rates),
        "failures": failures,
        "median_mib_s": round(statistics.median(rates), 2) if rates else None,
        "min_mib_s": round(min(rates), 2) if rates else None,
        "max_mib_s": round(max(rates), 2) if rates else None,
    }


def top_up_documents(client: Client, *, patient_id: int, target: int) -> int:
    """Upload small (1 KiB) documents until the clinic has `target`; they stay, for the list."""
    status, data, _ = client.call("GET", "/api/v1/documents?limit=1")
    missing = max(0, target - (json.loads(data)["total"] if status == 200 else 0))
    body, length, boundary = multipart_file(patient_id=patient_id, size=1024)
    headers = {"Content-Type": f"multipart/form-data; boundary={boundary}", "Content-Length": str(length)}
    try:
        for _ in range(missing):
            body.seek(0)
            client.call("POST", "/api/v1/documents/upload", body, headers)
    finally:
        body.close()
    return missing


def list_latency(client: Client, *, requests: int) -> dict:
    timings, failures = [], 0
    for index in range(WARM_UP + requests):
        status, _, elapsed_ms = client.call("GET", LIST_PATH)
        if status != 200:
            failures += 1
        elif index >= WARM_UP:
            timings.append(elapsed_ms)
    return latency_figures(timings, failures)


def measure(
    url: str,
    *,
    token: str = "",
    username: str = DEMO_LOGIN["username"],
    password: str = DEMO_LOGIN["password"],
    uploads: int = 5,
    list_requests: int = 200,
    list_documents: int = 60,
    patient_id: int | None = None,
) -> dict:
    """The figures, as a dict (see markdown_rows). Uploads and reads go to the web (WSGI) URL."""
    client = Client(url, token)
    try:
        if not token:
            client.login(username, password)
        patient_id = patient_id or first_patient_id(client)
        upload = {
            f"{size}MiB": upload_throughput(client, patient_id=patient_id, size_mib=size, uploads=uploads)
            for size in SIZES_MIB
        }
        top_up_documents(client, patient_id=patient_id, target=list_documents)
        listing = list_latency(client, requests=list_requests)
        listing["documents"] = list_documents
    finally:
        client.close()
    return {"upload": upload, "list": listing, "url": url}


def markdown_rows(figures: dict) -> list[str]:
    lines = [
        "POST /documents/upload one at a time (streamed to storage, SHA-256 and type checked on the way):",
        "",
        "| File | Uploads | median MiB/s | min MiB/s | max MiB/s | failures |",
        "|---|---|---|---|---|---|",
    ]
    for row in figures["upload"].values():
        lines.append(
            f"| {row['size_mib']} MiB | {row['uploads']} | {_n(row['median_mib_s'])} | "
            f"{_n(row['min_mib_s'])} | {_n(row['max_mib_s'])} | {row['failures']} |"
        )
    listing = figures["list"]
    lines += [
        "",
        "| Read | Requests | p50 ms | p95 ms | p99 ms | failures |",
        "|---|---|---|---|---|---|",
        f"| GET /documents?limit=50 ({listing.get('documents', '?')} documents) | {listing['requests']} | "
        f"{_n(listing['p50_ms'])} | "
        f"{_n(listing['p95_ms'])} | {_n(listing['p99_ms'])} | {listing['failures']} |",
    ]
    return lines


def _n(value) -> str:
    return "—" if value is None else f"{value:,.2f}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Document upload throughput and list latency against a running server."
    )
    add_server_arguments(parser)
    parser.add_argument("--uploads", type=int, default=5, help="uploads per file size (1 MiB, 10 MiB)")
    parser.add_argument("--list-requests", type=int, default=200)
    parser.add_argument(
        "--list-documents",
        type=int,
        default=60,
        help="documents the clinic is topped up to before the list is read",
    )
    parser.add_argument("--patient-id", type=int, default=None, help="default: the clinic's first patient")
    args = parser.parse_args(argv)
    figures = measure(
        args.url,
        token=args.token,
        username=args.username,
        password=args.password,
        uploads=args.uploads,
        list_requests=args.list_requests,
        list_documents=args.list_documents,
        patient_id=args.patient_id,
    )
    print_figures(figures, markdown_rows, as_json=args.json)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
