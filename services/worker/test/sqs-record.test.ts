import { describe, expect, it } from "vitest";
import { toRecord } from "../src/sqs-record.ts";

describe("toRecord", () => {
  it("writes a received message as Lambda's SQS event record, message attributes included", () => {
    const record = toRecord(
      {
        MessageId: "059f36b4-87a3-44ab-83d2-661975830a7d",
        ReceiptHandle: "AQEBwJnKyrHigUMZj6rYigCgxlaS3SLy0a",
        Body: "Test message.",
        MD5OfBody: "e4e68fb7bd0e697a0ae8f1bb342846b3",
        MD5OfMessageAttributes: "d25a6aea97eb8f585bfa92d314504a92",
        Attributes: {
          ApproximateReceiveCount: "2",
          SentTimestamp: "1545082649183",
          SenderId: "AIDAIENQZJOLO23YVJ4VO",
          ApproximateFirstReceiveTimestamp: "1545082649185",
          AWSTraceHeader: "Root=1-5e1b4151-5ac6c58f1b5d4e8a3b9a7c5d",
        },
        MessageAttributes: {
          requestId: { DataType: "String", StringValue: "req-1" },
          blob: { DataType: "Binary", BinaryValue: new Uint8Array([1, 2, 3]) },
        },
      },
      "arn:aws:sqs:us-east-2:123456789012:my-queue",
      "us-east-2",
    );
    expect(record).toEqual({
      messageId: "059f36b4-87a3-44ab-83d2-661975830a7d",
      receiptHandle: "AQEBwJnKyrHigUMZj6rYigCgxlaS3SLy0a",
      body: "Test message.",
      attributes: {
        ApproximateReceiveCount: "2",
        SentTimestamp: "1545082649183",
        SenderId: "AIDAIENQZJOLO23YVJ4VO",
        ApproximateFirstReceiveTimestamp: "1545082649185",
        AWSTraceHeader: "Root=1-5e1b4151-5ac6c58f1b5d4e8a3b9a7c5d",
      },
      messageAttributes: {
        requestId: { stringValue: "req-1", stringListValues: [], binaryListValues: [], dataType: "String" },
        blob: { binaryValue: "AQID", stringListValues: [], binaryListValues: [], dataType: "Binary" },
      },
      md5OfBody: "e4e68fb7bd0e697a0ae8f1bb342846b3",
      md5OfMessageAttributes: "d25a6aea97eb8f585bfa92d314504a92",
      eventSource: "aws:sqs",
      eventSourceARN: "arn:aws:sqs:us-east-2:123456789012:my-queue",
      awsRegion: "us-east-2",
    });
  });
});
