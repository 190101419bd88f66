"""The reference of bench/ingest-cost.ts: the seed's backend, built the way it describes itself.

FastAPI + boto3: POST /v1/jobs takes a multipart `file` part, streams it to S3 with
`upload_fileobj`, sends the job to SQS with `send_message` and answers 202 at once. It keeps
the same contract as content-engine's ingest where that costs nothing (Bearer API key, tenant
prefix, 202 + job id), and nothing more: no status record, no size limit, no cleanup.

Run by the bench: `uvicorn app:app --app-dir bench/reference --port N` with AWS_ENDPOINT_URL,
CONTENT_ENGINE_BUCKET, CONTENT_ENGINE_QUEUE_URL and CONTENT_ENGINE_API_KEYS (`key:tenant,...`).
"""

import json
import os
import uuid
from datetime import datetime, timezone

import boto3
from fastapi import FastAPI, File, Header, HTTPException, UploadFile

BUCKET = os.environ["CONTENT_ENGINE_BUCKET"]
QUEUE_URL = os.environ["CONTENT_ENGINE_QUEUE_URL"]
API_KEYS = dict(
    pair.split(":", 1) for pair in os.environ.get("CONTENT_ENGINE_API_KEYS", "").split(",") if ":" in pair
)

# boto3 reads AWS_ENDPOINT_URL and AWS_REGION from the environment; clients are thread-safe and
# made once, as the boto3 docs advise.
s3 = boto3.client("s3")
sqs = boto3.client("sqs")

app = FastAPI()


# A plain `def`: FastAPI runs it in its thread pool, so the blocking boto3 calls do not stall the
# event loop (the usual way to call boto3 from FastAPI).
@app.post("/v1/jobs", status_code=202)
def create_job(file: UploadFile = File(...), authorization: str = Header("")):
    tenant = API_KEYS.get(authorization.removeprefix("Bearer ").strip())
    if tenant is None:
        raise HTTPException(status_code=401, detail="missing or unknown API key")
    job_id = str(uuid.uuid4())
    filename = os.path.basename(file.filename or "document.txt")
    key = f"uploads/{tenant}/{job_id}/{filename}"
    s3.upload_fileobj(file.file, BUCKET, key, ExtraArgs={"ContentType": file.content_type or "text/plain"})
    created = datetime.now(timezone.utc).isoformat()
    sqs.send_message(
        QueueUrl=QUEUE_URL,
        MessageBody=json.dumps(
            {"jobId": job_id, "tenant": tenant, "bucket": BUCKET, "key": key, "createdAt": created}
        ),
    )
    return {"jobId": job_id, "status": "queued", "createdAt": created}


@app.get("/health")
def health():
    return {"status": "healthy"}
