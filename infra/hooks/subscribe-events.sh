#!/bin/sh
# azd postdeploy hook: once the Event Grid function is deployed, provision again with the event subscriptions
# (Event Grid refuses a subscription to a function that does not exist yet). Runs once per azd environment.
set -eu
if [ "$(azd env get-value KUBELINK_EVENT_SUBSCRIPTIONS 2>/dev/null || true)" = "true" ]; then
  exit 0
fi
azd env set KUBELINK_EVENT_SUBSCRIPTIONS true
azd provision --no-prompt
