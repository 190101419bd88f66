"""moto_server for the rehearsal, with one change: ECR authorization tokens that are valid.

moto stamps every ECR token with expiresAt 2015-01-01, which build-push and deploy-lambda rightly
refuse as expired. Real tokens last 12 hours; this serves them so. Everything else is moto as is.
"""

import sys
import time

from moto.ecr import responses
from moto.server import main

_original = responses.ECRResponse.get_authorization_token


def get_authorization_token(self):
    result = _original(self)
    for data in result.result["authorizationData"]:
        data["expiresAt"] = time.time() + 12 * 3600
    return result


responses.ECRResponse.get_authorization_token = get_authorization_token

if __name__ == "__main__":
    sys.exit(main())
