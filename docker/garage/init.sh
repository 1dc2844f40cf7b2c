#!/bin/sh
# One-shot set-up of the compose Garage through its admin API v1 (Garage 1.x): give the single
# node a role in the layout, import the shared test key, create the bench bucket and let the key
# use it. Safe to run again: every step checks first. Needs only sh, sed and curl.
set -eu

: "${GARAGE_ADMIN_URL:?}" "${GARAGE_ADMIN_TOKEN:?}" "${ACCESS_KEY:?}" "${SECRET_KEY:?}" "${BUCKET:?}"

api() { # METHOD PATH [JSON]
  if [ $# -ge 3 ]; then
    curl -fsS -X "$1" -H "Authorization: Bearer $GARAGE_ADMIN_TOKEN" \
      -H "Content-Type: application/json" --data "$3" "$GARAGE_ADMIN_URL$2"
  else
    curl -fsS -X "$1" -H "Authorization: Bearer $GARAGE_ADMIN_TOKEN" "$GARAGE_ADMIN_URL$2"
  fi
}
json_field() { # NAME: first "NAME": "value" in the JSON on stdin
  tr -d '\n' | sed -n "s/.*\"$1\"[[:space:]]*:[[:space:]]*\"\([^\"]*\)\".*/\1/p" | head -n 1
}

tries=0
until status=$(api GET /v1/status 2>/dev/null); do
  tries=$((tries + 1))
  [ "$tries" -lt 60 ] || { echo "garage admin API not answering" >&2; exit 1; }
  sleep 1
done
node_id=$(printf '%s' "$status" | json_field node)
[ -n "$node_id" ] || { echo "could not read the node id from /v1/status" >&2; exit 1; }

layout=$(api GET /v1/layout)
version=$(printf '%s' "$layout" | tr -d '\n ' | sed -n 's/.*"version":\([0-9]*\).*/\1/p' | head -n 1)
if [ "${version:-0}" = "0" ]; then
  echo "assigning a layout role to node $node_id"
  api POST /v1/layout "[{\"id\":\"$node_id\",\"zone\":\"dc1\",\"capacity\":10000000000,\"tags\":[]}]" >/dev/null
  api POST /v1/layout/apply '{"version":1}' >/dev/null
fi

if ! api GET "/v1/key?id=$ACCESS_KEY" >/dev/null 2>&1; then
  echo "importing the test key"
  api POST /v1/key/import \
    "{\"name\":\"s3z-bench\",\"accessKeyId\":\"$ACCESS_KEY\",\"secretAccessKey\":\"$SECRET_KEY\"}" >/dev/null
fi
api POST "/v1/key?id=$ACCESS_KEY" '{"allow":{"createBucket":true}}' >/dev/null

if ! bucket=$(api GET "/v1/bucket?globalAlias=$BUCKET" 2>/dev/null); then
  echo "creating bucket $BUCKET"
  bucket=$(api POST /v1/bucket "{\"globalAlias\":\"$BUCKET\"}")
fi
bucket_id=$(printf '%s' "$bucket" | json_field id)
api POST /v1/bucket/allow \
  "{\"bucketId\":\"$bucket_id\",\"accessKeyId\":\"$ACCESS_KEY\",\"permissions\":{\"read\":true,\"write\":true,\"owner\":true}}" >/dev/null
echo "garage ready: bucket $BUCKET, key $ACCESS_KEY, region garage"
