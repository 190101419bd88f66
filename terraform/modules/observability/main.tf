data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}

locals {
  account_root = "arn:${data.aws_partition.current.partition}:iam::${data.aws_caller_identity.current.account_id}:root"
}

# CloudWatch alarms cannot publish to a topic encrypted with the AWS managed aws/sns key,
# so the alarm topics (page and ticket tier) get their own key whose policy lets CloudWatch use it.
data "aws_iam_policy_document" "paging_key" {
  #checkov:skip=CKV_AWS_109:Key policy: AWS requires Resource "*" (the key itself) and the account-root kms:* statement that delegates access to IAM.
  #checkov:skip=CKV_AWS_111:Key policy: AWS requires Resource "*" (the key itself) and the account-root kms:* statement that delegates access to IAM.
  #checkov:skip=CKV_AWS_356:Key policy: Resource "*" in a key policy means this key only.
  # A key policy must name the key as "*"; the account root statement delegates use of the key to IAM.
  statement {
    sid       = "AccountAdministersKey"
    actions   = ["kms:*"]
    resources = ["*"]

    principals {
      type        = "AWS"
      identifiers = [local.account_root]
    }
  }

  statement {
    sid       = "CloudWatchEncryptsAlarmNotifications"
    actions   = ["kms:Decrypt", "kms:GenerateDataKey*"]
    resources = ["*"]

    principals {
      type        = "Service"
      identifiers = ["cloudwatch.amazonaws.com"]
    }

    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [data.aws_caller_identity.current.account_id]
    }
  }
}

resource "aws_kms_key" "paging" {
  description             = "${var.name} alarm topics encryption"
  enable_key_rotation     = true
  deletion_window_in_days = 7
  policy                  = data.aws_iam_policy_document.paging_key.json

  tags = var.tags
}

resource "aws_kms_alias" "paging" {
  name          = "alias/${var.name}-paging"
  target_key_id = aws_kms_key.paging.key_id
}

# Two tiers, each its own topic so each can reach its own people: the page tier (system faults users
# notice; someone acts now) keeps the historical <name>-paging topic, the ticket tier (client faults,
# slow trends, capacity) is <name>-ticket.
resource "aws_sns_topic" "paging" {
  name              = "${var.name}-paging"
  kms_master_key_id = aws_kms_key.paging.arn

  tags = merge(var.tags, { severity = "page" })
}

resource "aws_sns_topic" "ticket" {
  name              = "${var.name}-ticket"
  kms_master_key_id = aws_kms_key.paging.arn

  tags = merge(var.tags, { severity = "ticket" })
}

locals {
  topics = {
    page   = aws_sns_topic.paging.arn
    ticket = aws_sns_topic.ticket.arn
  }
}

data "aws_iam_policy_document" "topic" {
  for_each = local.topics

  statement {
    sid       = "CloudWatchAlarmsPublish"
    actions   = ["sns:Publish"]
    resources = [each.value]

    principals {
      type        = "Service"
      identifiers = ["cloudwatch.amazonaws.com"]
    }

    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [data.aws_caller_identity.current.account_id]
    }
  }

  statement {
    sid       = "DenyInsecureTransport"
    effect    = "Deny"
    actions   = ["sns:Publish"]
    resources = [each.value]

    principals {
      type        = "*"
      identifiers = ["*"]
    }

    condition {
      test     = "Bool"
      variable = "aws:SecureTransport"
      values   = ["false"]
    }
  }
}

resource "aws_sns_topic_policy" "topic" {
  for_each = local.topics

  arn    = each.value
  policy = data.aws_iam_policy_document.topic[each.key].json
}

moved {
  from = aws_sns_topic_policy.paging
  to   = aws_sns_topic_policy.topic["page"]
}

resource "aws_sns_topic_subscription" "paging" {
  for_each = { for s in var.subscriptions : "${s.protocol}:${s.endpoint}" => s }

  topic_arn = aws_sns_topic.paging.arn
  protocol  = each.value.protocol
  endpoint  = each.value.endpoint
  # HTTPS endpoints get the raw alarm JSON; e-mail confirmations are sent by SNS.
  raw_message_delivery = false
}

resource "aws_sns_topic_subscription" "ticket" {
  for_each = { for s in var.ticket_subscriptions : "${s.protocol}:${s.endpoint}" => s }

  topic_arn            = aws_sns_topic.ticket.arn
  protocol             = each.value.protocol
  endpoint             = each.value.endpoint
  raw_message_delivery = false
}
