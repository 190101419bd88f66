"""moto_server for the rehearsal, with gaps of moto 5.2 filled; everything else is moto as is.

- ECR: moto stamps every token with expiresAt 2015-01-01, which build-push and deploy-lambda rightly
  refuse as expired. Real tokens last 12 hours; this serves them so.
- CloudWatch: PutCompositeAlarm is not routed (NotImplementedError, an HTML 500), though moto's
  PutMetricAlarm handler already reads AlarmRule "to re-use this method for composite alarms";
  observability-apply creates the environment's composite gate alarm, so it is routed there.
- ECS: moto's services never start tasks, so a rollout cannot fail (MOTO_ECS_SERVICE_FAILED_TASKS only
  stamps the service's first deployment). A task definition whose containers set the environment
  variable REHEARSAL_EXIT_CODE stands for an image that exits at start: UpdateService to it opens a new
  PRIMARY deployment whose tasks stop (stopped tasks with ECS's reason and that exit code, failedTasks
  growing by one per DescribeServices, which is the rollout's clock here) until the deployment circuit
  breaker's threshold, max(3, min(200, ceil(desired / 2))). Then, as in ECS, the deployment is FAILED;
  with rollback on, the service goes back to the task definition it ran before, in a new deployment
  that completes on the next DescribeServices. Without the circuit breaker the tasks fail forever.
  Any other task definition keeps moto's own behaviour.
- ECS CreateService: moto leaves a new service at 0 running tasks (IN_PROGRESS) unless the server-wide
  MOTO_ECS_SERVICE_RUNNING says otherwise, while UpdateService reports the desired count running. A
  created service (a preview's) reaches its desired count the same way, unless its task definition
  exits at start (REHEARSAL_EXIT_CODE), which stays as moto has it.
- ECS RunTask (deploy-ecs's pre-deploy tasks): moto's one-off tasks already walk RUNNING -> STOPPED, a
  step per DescribeTasks, but every container exits 0. A task whose containerOverrides set
  REHEARSAL_EXIT_CODE in their environment, or whose task definition carries it as above (the image
  that exits at start), stops with that exit code and ECS's reason, as the command would have exited.
  moto also adds up container memory to place a task and fails (a 500) on a container without one;
  Fargate sizes the task, and terraform's task definition sizes only the task: those count as 0.
- KMS: Sign signs the base64 text of the message instead of its bytes, and ignores MessageType, so
  a signature moto makes verifies nowhere else. cosign (build-push's image signing, awskms://) sends
  MessageType DIGEST; this signs the decoded message, pre-hashed when it is a DIGEST, as KMS does.
  Verify is left as moto has it (nothing in the rehearsal calls it).
"""

import math
import sys
import time
import types

from moto.cloudwatch import responses as cloudwatch
from moto.core.utils import utcnow
from moto.ecr import responses
from moto.ecs.models import EC2ContainerServiceBackend, Task
from moto.kms import responses as kms
from moto.moto_api._internal import mock_random
from moto.server import main

_original = responses.ECRResponse.get_authorization_token


def get_authorization_token(self):
    result = _original(self)
    for data in result.result["authorizationData"]:
        data["expiresAt"] = time.time() + 12 * 3600
    return result


responses.ECRResponse.get_authorization_token = get_authorization_token
cloudwatch.CloudWatchResponse.put_composite_alarm = cloudwatch.CloudWatchResponse.put_metric_alarm


def kms_sign(self):
    import base64
    import json

    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec, padding, utils

    key_id = self._get_param("KeyId")
    algorithm = self._get_param("SigningAlgorithm")
    message = self._get_param("Message")
    message = base64.b64decode(message) if isinstance(message, str) else bytes(message)
    self._validate_key_id(key_id)
    key = self.kms_backend.describe_key(key_id)
    if algorithm not in key.signing_algorithms:
        raise kms.ValidationException(f"SigningAlgorithm {algorithm} is not valid for this key")
    digest = {"256": hashes.SHA256(), "384": hashes.SHA384(), "512": hashes.SHA512()}[algorithm[-3:]]
    chosen = utils.Prehashed(digest) if self._get_param("MessageType") == "DIGEST" else digest
    private = key.private_key.private_key
    if algorithm.startswith("ECDSA"):
        signature = private.sign(message, ec.ECDSA(chosen))
    elif algorithm.startswith("RSASSA_PSS"):
        signature = private.sign(message, padding.PSS(padding.MGF1(digest), padding.PSS.DIGEST_LENGTH), chosen)
    else:
        signature = private.sign(message, padding.PKCS1v15(), chosen)
    return json.dumps(
        {"KeyId": key.arn, "Signature": base64.b64encode(signature).decode(), "SigningAlgorithm": algorithm}
    )


kms.KmsResponse.sign = kms_sign


EXIT_MARKER = "REHEARSAL_EXIT_CODE"
_update_service = EC2ContainerServiceBackend.update_service
_create_service = EC2ContainerServiceBackend.create_service
_run_task = EC2ContainerServiceBackend.run_task
_describe_services = EC2ContainerServiceBackend.describe_services


def _exit_code(backend, task_definition_arn):
    definition = backend.describe_task_definition(task_definition_arn)
    for container in definition.container_definitions:
        for variable in container.get("environment") or []:
            if variable.get("name") == EXIT_MARKER:
                return int(variable.get("value", "1"))
    return None


def _deployment(service, task_definition, state, running):
    deployment_id = f"ecs-svc/{mock_random.randint(0, 32**12)}"
    now = utcnow()
    return {
        "createdAt": now,
        "desiredCount": service.desired_count,
        "failedTasks": 0,
        "id": deployment_id,
        "launchType": service.launch_type,
        "pendingCount": service.desired_count - running,
        "rolloutState": state,
        "rolloutStateReason": f"ECS deployment {deployment_id} {'completed' if state == 'COMPLETED' else 'in progress'}.",
        "runningCount": running,
        "platformFamily": "FARGATE",
        "status": "PRIMARY",
        "taskDefinition": task_definition,
        "updatedAt": now,
    }


def _event(service, message):
    service.events.insert(
        0, {"id": str(mock_random.uuid4()), "createdAt": utcnow(), "message": f"(service {service.name}) {message}"}
    )


def update_service(self, service_properties):
    cluster = service_properties.get("cluster", "default")
    previous = self._get_service(cluster, service_properties["service"].split("/")[-1]).task_definition
    service = _update_service(self, service_properties)
    if service.task_definition == previous:
        return service
    code = _exit_code(self, service.task_definition)
    if code is None:
        if getattr(service, "rehearsal_failing", None):
            # A rollout by hand over a failed one: the service settles on it.
            service.rehearsal_failing = None
            service.deployments = [_deployment(service, service.task_definition, "COMPLETED", service.desired_count)]
        return service
    serving = [dict(d, status="ACTIVE") for d in service.deployments]
    for d in serving:
        if d["taskDefinition"] != service.task_definition:
            d["taskDefinition"] = previous  # moto never moves its first deployment's revision
    deployment = _deployment(service, service.task_definition, "IN_PROGRESS", 0)
    service.deployments = [deployment, *serving]
    service.rehearsal_failing = {"deployment": deployment, "previous": previous, "code": code}
    _event(service, f"(deployment {deployment['id']}) deployment started.")
    return service


def create_service(self, *args, **kwargs):
    service = _create_service(self, *args, **kwargs)
    if service.desired_count and _exit_code(self, service.task_definition) is None:
        service.running_count, service.pending_count = service.desired_count, 0
        for deployment in service.deployments:
            deployment.update(rolloutState="COMPLETED", runningCount=service.desired_count, pendingCount=0)
            deployment["rolloutStateReason"] = f"ECS deployment {deployment['id']} completed."
    return service


def _stop_task(backend, service, failing):
    definition = backend.describe_task_definition(failing["deployment"]["taskDefinition"])
    # Task only reads these; "none" spares it the ENI an awsvpc task would attach.
    shape = types.SimpleNamespace(
        arn=definition.arn, network_mode="none", container_definitions=definition.container_definitions
    )
    cluster = backend._get_cluster(service.cluster_name)
    task = Task(
        cluster, shape, None, None, backend, group=f"service:{service.name}",
        launch_type="FARGATE", started_by=failing["deployment"]["id"],
    )
    task.desired_status = "STOPPED"
    task.last_status = "STOPPED"
    task.stopped_reason = "Essential container in task exited"
    task.stop_code = "EssentialContainerExited"
    for container in task.containers:
        container.last_status = "STOPPED"
        container.exitCode = failing["code"]
    backend.tasks.setdefault(cluster.name, {})[task.task_arn] = task
    _event(service, f"has started 1 tasks: (task {task.id}).")
    _event(service, f"(task {task.id}) stopped: Essential container in task exited (exit code {failing['code']}).")


def _advance(backend, service):
    failing = getattr(service, "rehearsal_failing", None)
    if not failing:
        return
    deployment = failing["deployment"]
    if deployment["rolloutState"] == "FAILED":
        # The rollback deployment reaches a steady state; the failed one is gone.
        rollback = failing.get("rollback")
        if rollback:
            rollback.update(rolloutState="COMPLETED", runningCount=service.desired_count, pendingCount=0)
            rollback["rolloutStateReason"] = f"ECS deployment {rollback['id']} completed."
            service.deployments = [rollback]
            service.running_count, service.pending_count = service.desired_count, 0
            _event(service, "has reached a steady state.")
            service.rehearsal_failing = None
        return
    _stop_task(backend, service, failing)
    deployment["failedTasks"] += 1
    deployment["updatedAt"] = utcnow()
    breaker = (getattr(service, "deployment_configuration", None) or {}).get("deploymentCircuitBreaker") or {}
    threshold = max(3, min(200, math.ceil(service.desired_count / 2)))
    if not breaker.get("enable") or deployment["failedTasks"] < threshold:
        return
    deployment["rolloutState"] = "FAILED"
    deployment["rolloutStateReason"] = "ECS deployment circuit breaker: tasks failed to start."
    deployment["status"] = "ACTIVE"
    _event(service, f"(deployment {deployment['id']}) deployment failed: tasks failed to start.")
    if not breaker.get("rollback"):
        service.rehearsal_failing = None
        return
    rollback = _deployment(service, failing["previous"], "IN_PROGRESS", 0)
    failing["rollback"] = rollback
    service.task_definition = failing["previous"]
    service.deployments = [rollback, *service.deployments]
    _event(service, f"rolling back to deployment {rollback['id']}.")


def describe_services(self, cluster_str, service_names_or_arns):
    services, failures = _describe_services(self, cluster_str, service_names_or_arns)
    for service in services:
        _advance(self, service)
    return services, failures


def _override_exit_code(overrides):
    for container in (overrides or {}).get("containerOverrides") or []:
        for variable in container.get("environment") or []:
            if variable.get("name") == EXIT_MARKER:
                return int(variable.get("value", "1"))
    return None


def run_task(self, cluster_str, task_definition_str, count, overrides, *args, **kwargs):
    tasks = _run_task(self, cluster_str, task_definition_str, count, overrides, *args, **kwargs)
    code = _override_exit_code(overrides)
    if code is None:
        code = _exit_code(self, task_definition_str)
    if code is not None:
        for task in tasks:
            task.stopped_reason = "Essential container in task exited"
            task.stop_code = "EssentialContainerExited"
            for container in task.containers:
                container.exitCode = code
    return tasks


_resources = EC2ContainerServiceBackend._calculate_task_resource_requirements


def _task_resources(task_definition):
    # Fargate task definitions may size only the task (terraform's does): a container without memory
    # counts as 0, where moto added None and answered RunTask with a 500.
    fitted = types.SimpleNamespace(
        container_definitions=[
            {**c, "memory": c.get("memory") or c.get("memoryReservation") or 0}
            if not ("Memory" in c or "MemoryReservation" in c)
            else c
            for c in task_definition.container_definitions
        ]
    )
    return _resources(fitted)


EC2ContainerServiceBackend._calculate_task_resource_requirements = staticmethod(_task_resources)
EC2ContainerServiceBackend.update_service = update_service
EC2ContainerServiceBackend.create_service = create_service
EC2ContainerServiceBackend.run_task = run_task
EC2ContainerServiceBackend.describe_services = describe_services

if __name__ == "__main__":
    sys.exit(main())
