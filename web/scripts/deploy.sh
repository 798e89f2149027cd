#!/usr/bin/env bash
# `make deploy`: the stack (sam build + sam deploy), then the SPA into the stack's WebBucket.
#
# The bundle holds no deployment detail: this script writes config.json next to index.html from
# the stack's outputs (the API URL, and for reference the Cognito ids); the SPA reads it at start
# and takes the Cognito endpoint and ids from GET <ApiUrl>/api/config.
#
#   CONFIG_ENV=staging make deploy     # a samconfig.toml profile (default: default)
#   SAM=.venv-sam/bin/sam make deploy  # which sam to run (default: sam on PATH)
# Needs: AWS credentials, the AWS CLI (aws), the SAM CLI (sam), and a built web/dist.
set -euo pipefail
cd "$(dirname "$0")/../.."

CONFIG_ENV=${CONFIG_ENV:-default}
SAM=${SAM:-sam}
PYTHON=${PYTHON:-python3}
for tool in aws "$SAM"; do
  command -v "$tool" >/dev/null 2>&1 || { echo "deploy: $tool is not installed (see README, Deploy)" >&2; exit 2; }
done
test -f web/dist/index.html || { echo "deploy: web/dist is not built: run make web" >&2; exit 2; }

# The stack name and region of that profile, as sam reads them from samconfig.toml.
read -r STACK REGION < <("$PYTHON" - "$CONFIG_ENV" <<'PY'
import sys, tomllib
config = tomllib.load(open("samconfig.toml", "rb"))
env, default = config.get(sys.argv[1], {}), config.get("default", {})
def pick(key):
    for section in (env.get("deploy", {}), env.get("global", {}), default.get("deploy", {}), default.get("global", {})):
        value = section.get("parameters", {}).get(key)
        if value:
            return value
    sys.exit(f"deploy: samconfig.toml has no {key} for {sys.argv[1]}")
print(pick("stack_name"), pick("region"))
PY
)

[ -n "${REGION:-}" ] || exit 2

"$SAM" build
"$SAM" deploy --config-env "$CONFIG_ENV"

output() {
  aws cloudformation describe-stacks --region "$REGION" --stack-name "$STACK" \
    --query "Stacks[0].Outputs[?OutputKey=='$1'].OutputValue" --output text
}
API_URL=$(output ApiUrl)
WEBSITE_URL=$(output WebsiteUrl)
BUCKET=$(aws cloudformation describe-stack-resource --region "$REGION" --stack-name "$STACK" \
  --logical-resource-id WebBucket --query StackResourceDetail.PhysicalResourceId --output text)

CONFIG=$(mktemp)
trap 'rm -f "$CONFIG"' EXIT
"$PYTHON" - "$API_URL" "$REGION" "$(output UserPoolId)" "$(output UserPoolClientId)" > "$CONFIG" <<'PY'
import json, sys
api, region, pool, client = sys.argv[1:]
print(json.dumps({"apiBase": api.rstrip("/"), "region": region, "cognito": {"userPoolId": pool, "clientId": client}}))
PY

# Hashed assets first (cached for a year), then the entry points (never cached), then drop what
# the new index.html no longer names.
aws s3 sync web/dist "s3://$BUCKET" --region "$REGION" --exclude index.html --exclude config.json \
  --cache-control "public,max-age=31536000,immutable"
aws s3 cp web/dist/index.html "s3://$BUCKET/index.html" --region "$REGION" --cache-control no-cache
aws s3 cp "$CONFIG" "s3://$BUCKET/config.json" --region "$REGION" --cache-control no-cache \
  --content-type application/json
aws s3 sync web/dist "s3://$BUCKET" --region "$REGION" --delete --exclude config.json --size-only

echo "QuantLink deployed: API $API_URL"
echo "Owner SPA: $WEBSITE_URL"
