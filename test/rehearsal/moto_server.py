"""moto_server for the rehearsal, with two gaps of moto 5.2 filled; everything else is moto as is.

- ECR: moto stamps every token with expiresAt 2015-01-01, which build-push and deploy-lambda rightly
  refuse as expired. Real tokens last 12 hours; this serves them so.
- CloudWatch: PutCompositeAlarm is not routed (NotImplementedError, an HTML 500), though moto's
  PutMetricAlarm handler already reads AlarmRule "to re-use this method for composite alarms";
  observability-apply creates the environment's composite gate alarm, so it is routed there.
"""

import sys
import time

from moto.cloudwatch import responses as cloudwatch
from moto.ecr import responses
from moto.server import main

_original = responses.ECRResponse.get_authorization_token


def get_authorization_token(self):
    result = _original(self)
    for data in result.result["authorizationData"]:
        data["expiresAt"] = time.time() + 12 * 3600
    return result


responses.ECRResponse.get_authorization_token = get_authorization_token
cloudwatch.CloudWatchResponse.put_composite_alarm = cloudwatch.CloudWatchResponse.put_metric_alarm

if __name__ == "__main__":
    sys.exit(main())
