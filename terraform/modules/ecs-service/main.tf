data "aws_region" "current" {}

locals {
  container_name = "api"

  # The secrets environments/<env>.yaml names (api.secrets), by service: the execution role reads these
  # and no others when ECS starts a task.
  secretsmanager_arns = [for arn in var.secret_arns : arn if strcontains(arn, ":secretsmanager:")]
  ssm_parameter_arns  = [for arn in var.secret_arns : arn if strcontains(arn, ":ssm:")]
  log_options = {
    awslogs-group  = aws_cloudwatch_log_group.api.name
    awslogs-region = data.aws_region.current.region
  }

  # The metrics collector sidecar (terraform/modules/metrics): Prometheus in agent mode, scraping the
  # API at localhost (the task's shared network namespace) and remote-writing with SigV4. Not
  # essential: a collector that crashes loses metrics, never the API. Its configuration arrives as
  # an environment variable and is written to its own scratch volume, so both root filesystems stay
  # read-only. The volume is mounted at /prometheus, the Prometheus image's own VOLUME path, which
  # the image gives to nobody (65534): Fargate seeds a bind mount from the image's VOLUME directory
  # at the same path, so the non-root collector can write its configuration and WAL there.
  collector_containers = var.metrics_collector == null ? [] : [
    {
      name                   = "metrics-collector"
      image                  = var.metrics_collector.image
      essential              = false
      user                   = "65534:65534"
      readonlyRootFilesystem = true
      memoryReservation      = 64
      entryPoint             = ["/bin/sh", "-c"]
      command = [join(" ", [
        "printf '%s' \"$PROMETHEUS_CONFIG\" > /prometheus/agent.yml &&",
        "exec /bin/prometheus --enable-feature=agent --config.file=/prometheus/agent.yml",
        "--storage.agent.path=/prometheus/wal --web.listen-address=127.0.0.1:9090",
      ])]
      environment = [{ name = "PROMETHEUS_CONFIG", value = var.metrics_collector.config }]
      mountPoints = [{ sourceVolume = "collector", containerPath = "/prometheus", readOnly = false }]
      dependsOn   = [{ containerName = local.container_name, condition = "START" }]
      linuxParameters = {
        capabilities = { drop = ["ALL"] }
      }
      logConfiguration = {
        logDriver = "awslogs"
        options   = merge(local.log_options, { awslogs-stream-prefix = "metrics-collector" })
      }
    }
  ]
}

resource "aws_ecs_cluster" "this" {
  name = var.name

  setting {
    name  = "containerInsights"
    value = "enabled"
  }

  tags = var.tags
}

resource "aws_cloudwatch_log_group" "api" {
  #checkov:skip=CKV_AWS_158:CloudWatch Logs encrypts at rest with service-owned keys; API logs hold request metadata, never uploaded content.
  #checkov:skip=CKV_AWS_338:Retention is a per-environment cost decision (var.log_retention_days; prod keeps a year).
  name              = "/ecs/${var.name}/api"
  retention_in_days = var.log_retention_days

  tags = var.tags
}

# --- IAM: the execution role pulls the image and reads the secrets; the task role is what the code may do.

data "aws_iam_policy_document" "ecs_tasks_assume" {
  statement {
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["ecs-tasks.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "execution" {
  name               = "${var.name}-api-execution"
  assume_role_policy = data.aws_iam_policy_document.ecs_tasks_assume.json

  tags = var.tags
}

data "aws_iam_policy_document" "execution" {
  # GetAuthorizationToken has no resource-level permissions: AWS requires "*".
  statement {
    sid       = "EcrLogin"
    actions   = ["ecr:GetAuthorizationToken"]
    resources = ["*"]
  }

  statement {
    sid       = "PullImage"
    actions   = ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer", "ecr:BatchCheckLayerAvailability"]
    resources = [var.ecr_repository_arn]
  }

  statement {
    sid       = "WriteLogs"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["${aws_cloudwatch_log_group.api.arn}:*"]
  }

  statement {
    sid       = "ReadApiKeys"
    actions   = ["secretsmanager:GetSecretValue"]
    resources = [var.api_keys_secret_arn]
  }

  dynamic "statement" {
    for_each = length(local.secretsmanager_arns) == 0 ? [] : [local.secretsmanager_arns]

    content {
      sid       = "ReadFileSecrets"
      actions   = ["secretsmanager:GetSecretValue"]
      resources = statement.value
    }
  }

  dynamic "statement" {
    for_each = length(local.ssm_parameter_arns) == 0 ? [] : [local.ssm_parameter_arns]

    content {
      sid       = "ReadFileParameters"
      actions   = ["ssm:GetParameters"]
      resources = statement.value
    }
  }
}

resource "aws_iam_role_policy" "execution" {
  name   = "pull-image-write-logs-read-api-keys"
  role   = aws_iam_role.execution.id
  policy = data.aws_iam_policy_document.execution.json
}

resource "aws_iam_role" "task" {
  name               = "${var.name}-api-task"
  assume_role_policy = data.aws_iam_policy_document.ecs_tasks_assume.json

  tags = var.tags
}

resource "aws_iam_role_policy" "task" {
  name   = "content-engine-api"
  role   = aws_iam_role.task.id
  policy = var.task_policy_json
}

# The collector sidecar runs with the task role: aps:RemoteWrite to the environment's workspace only.
resource "aws_iam_role_policy" "metrics_collector" {
  count = var.metrics_collector == null ? 0 : 1

  name   = "metrics-collector-remote-write"
  role   = aws_iam_role.task.id
  policy = var.metrics_collector.policy_json
}

# --- Task definition: non-root, read-only root filesystem, /tmp as the only writable path.

resource "aws_ecs_task_definition" "api" {
  family                   = "${var.name}-api"
  requires_compatibilities = ["FARGATE"]
  network_mode             = "awsvpc"
  cpu                      = var.cpu
  memory                   = var.memory
  execution_role_arn       = aws_iam_role.execution.arn
  task_role_arn            = aws_iam_role.task.arn

  runtime_platform {
    operating_system_family = "LINUX"
    cpu_architecture        = "X86_64"
  }

  volume {
    name = "tmp"
  }

  dynamic "volume" {
    for_each = var.metrics_collector == null ? [] : ["collector"]

    content {
      name = volume.value
    }
  }

  container_definitions = jsonencode(concat([
    {
      name                   = local.container_name
      image                  = var.container_image
      essential              = true
      user                   = "10001:10001"
      readonlyRootFilesystem = true
      stopTimeout            = var.health_check.container_stop_timeout_sec
      portMappings           = [{ containerPort = var.container_port, protocol = "tcp" }]
      environment = [
        for k, v in merge(var.environment, { PORT = tostring(var.container_port) }) : { name = k, value = v }
      ]
      secrets     = [{ name = "CONTENT_ENGINE_API_KEYS", valueFrom = var.api_keys_secret_arn }]
      mountPoints = [{ sourceVolume = "tmp", containerPath = "/tmp", readOnly = false }]
      # The image's HEALTHCHECK, which ECS ignores: the task is replaced when /health stops answering.
      # Exec form: the distroless image has no shell for CMD-SHELL.
      healthCheck = {
        command = [
          "CMD", "/nodejs/bin/node", "-e",
          "fetch('http://127.0.0.1:' + (process.env.PORT || 8000) + '/health').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))",
        ]
        interval    = 10
        timeout     = 3
        retries     = 3
        startPeriod = 10
      }
      linuxParameters = {
        capabilities = { drop = ["ALL"] }
      }
      logConfiguration = {
        logDriver = "awslogs"
        options   = merge(local.log_options, { awslogs-stream-prefix = "api" })
      }
    }
  ], local.collector_containers))

  tags = var.tags
}

# --- Load balancer.

resource "aws_security_group" "alb" {
  name        = "${var.name}-alb"
  description = "Client traffic to the API load balancer"
  vpc_id      = var.vpc_id

  tags = var.tags
}

resource "aws_vpc_security_group_ingress_rule" "alb_https" {
  for_each = toset(var.ingress_cidrs)

  security_group_id = aws_security_group.alb.id
  description       = "HTTPS from clients"
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
  cidr_ipv4         = each.value
}

resource "aws_vpc_security_group_ingress_rule" "alb_http" {
  #checkov:skip=CKV_AWS_260:Port 80 only answers with a permanent redirect to HTTPS; no request reaches the API over plain HTTP.
  for_each = toset(var.ingress_cidrs)

  security_group_id = aws_security_group.alb.id
  description       = "HTTP from clients, redirected to HTTPS"
  ip_protocol       = "tcp"
  from_port         = 80
  to_port           = 80
  cidr_ipv4         = each.value
}

resource "aws_vpc_security_group_egress_rule" "alb_to_tasks" {
  security_group_id            = aws_security_group.alb.id
  description                  = "Forward to the API tasks"
  ip_protocol                  = "tcp"
  from_port                    = var.container_port
  to_port                      = var.container_port
  referenced_security_group_id = aws_security_group.tasks.id
}

resource "aws_security_group" "tasks" {
  name        = "${var.name}-api-tasks"
  description = "API tasks: traffic from the load balancer only"
  vpc_id      = var.vpc_id

  tags = var.tags
}

resource "aws_vpc_security_group_ingress_rule" "tasks_from_alb" {
  security_group_id            = aws_security_group.tasks.id
  description                  = "API port from the load balancer"
  ip_protocol                  = "tcp"
  from_port                    = var.container_port
  to_port                      = var.container_port
  referenced_security_group_id = aws_security_group.alb.id
}

resource "aws_vpc_security_group_egress_rule" "tasks_https" {
  security_group_id = aws_security_group.tasks.id
  description       = "HTTPS to AWS APIs (S3, SQS, ECR, CloudWatch Logs, Secrets Manager)"
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
  cidr_ipv4         = "0.0.0.0/0"
}

resource "aws_lb" "this" {
  #checkov:skip=CKV2_AWS_28:A WAF web ACL is attached through var.waf_web_acl_arn where the environment has one; API keys and upload limits guard the API itself.
  #checkov:skip=CKV2_AWS_76:Same as CKV2_AWS_28: the Log4j managed rule lives in the optional web ACL; the service runs on Node.js, not Java.
  #checkov:skip=CKV_AWS_91:Access logs are enabled through var.access_logs_bucket, which needs a bucket that grants the regional ELB account write access.
  name                       = var.name
  load_balancer_type         = "application"
  internal                   = false
  subnets                    = var.public_subnet_ids
  security_groups            = [aws_security_group.alb.id]
  drop_invalid_header_fields = true
  enable_deletion_protection = var.deletion_protection
  idle_timeout               = 60

  dynamic "access_logs" {
    for_each = var.access_logs_bucket == null ? [] : [var.access_logs_bucket]

    content {
      bucket  = access_logs.value
      prefix  = var.name
      enabled = true
    }
  }

  tags = var.tags
}

resource "aws_wafv2_web_acl_association" "this" {
  count = var.waf_web_acl_arn == null ? 0 : 1

  resource_arn = aws_lb.this.arn
  web_acl_arn  = var.waf_web_acl_arn
}

resource "aws_lb_target_group" "api" {
  name                 = "${var.name}-api"
  port                 = var.container_port
  protocol             = "HTTP"
  target_type          = "ip"
  vpc_id               = var.vpc_id
  deregistration_delay = var.health_check.deregistration_delay

  health_check {
    path                = var.health_check.path
    matcher             = "200"
    interval            = var.health_check.interval_seconds
    timeout             = var.health_check.timeout_seconds
    healthy_threshold   = var.health_check.healthy_threshold
    unhealthy_threshold = var.health_check.unhealthy_threshold
  }

  tags = var.tags
}

resource "aws_lb_listener" "https" {
  load_balancer_arn = aws_lb.this.arn
  port              = 443
  protocol          = "HTTPS"
  ssl_policy        = "ELBSecurityPolicy-TLS13-1-2-2021-06"
  certificate_arn   = var.certificate_arn

  default_action {
    type             = "forward"
    target_group_arn = aws_lb_target_group.api.arn
  }

  tags = var.tags
}

# /metrics is for the collector sidecar, which scrapes the task at localhost (modules/metrics): the
# public listener answers it with the API's own 404 form before any request reaches a task.
resource "aws_lb_listener_rule" "metrics_not_public" {
  listener_arn = aws_lb_listener.https.arn
  priority     = 1

  action {
    type = "fixed-response"

    fixed_response {
      content_type = "application/json"
      message_body = jsonencode({ error = { code = "not_found", message = "no route for this path" } })
      status_code  = "404"
    }
  }

  condition {
    path_pattern {
      values = ["/metrics", "/metrics/*"]
    }
  }

  tags = var.tags
}

resource "aws_lb_listener" "http_redirect" {
  load_balancer_arn = aws_lb.this.arn
  port              = 80
  protocol          = "HTTP"

  default_action {
    type = "redirect"

    redirect {
      port        = "443"
      protocol    = "HTTPS"
      status_code = "HTTP_301"
    }
  }

  tags = var.tags
}

# --- Service.

resource "aws_ecs_service" "api" {
  name                              = "${var.name}-api"
  cluster                           = aws_ecs_cluster.this.id
  task_definition                   = aws_ecs_task_definition.api.arn
  desired_count                     = var.desired_count
  launch_type                       = "FARGATE"
  platform_version                  = "LATEST"
  health_check_grace_period_seconds = var.health_check.grace_period_seconds
  # Start the whole new set at once, keep the old set serving until the new one is healthy.
  deployment_minimum_healthy_percent = 100
  deployment_maximum_percent         = 200
  enable_execute_command             = false
  propagate_tags                     = "SERVICE"

  deployment_circuit_breaker {
    enable   = true
    rollback = true
  }

  network_configuration {
    subnets          = var.private_subnet_ids
    security_groups  = [aws_security_group.tasks.id]
    assign_public_ip = false
  }

  load_balancer {
    target_group_arn = aws_lb_target_group.api.arn
    container_name   = local.container_name
    container_port   = var.container_port
  }

  lifecycle {
    # The deploy action registers new task definitions; autoscaling moves desired_count.
    ignore_changes = [task_definition, desired_count]
  }

  depends_on = [aws_lb_listener.https]

  tags = var.tags
}

resource "aws_appautoscaling_target" "api" {
  service_namespace  = "ecs"
  resource_id        = "service/${aws_ecs_cluster.this.name}/${aws_ecs_service.api.name}"
  scalable_dimension = "ecs:service:DesiredCount"
  min_capacity       = var.autoscaling.min_capacity
  max_capacity       = var.autoscaling.max_capacity
}

resource "aws_appautoscaling_policy" "cpu" {
  name               = "${var.name}-api-cpu"
  policy_type        = "TargetTrackingScaling"
  service_namespace  = aws_appautoscaling_target.api.service_namespace
  resource_id        = aws_appautoscaling_target.api.resource_id
  scalable_dimension = aws_appautoscaling_target.api.scalable_dimension

  target_tracking_scaling_policy_configuration {
    target_value       = var.autoscaling.target_cpu_percent
    scale_in_cooldown  = 120
    scale_out_cooldown = 30

    predefined_metric_specification {
      predefined_metric_type = "ECSServiceAverageCPUUtilization"
    }
  }
}
