#!/usr/bin/env bash
# Runs one command on the GPU ctest allocated to this test (RESOURCE_GROUPS gpus:1): ctest sets
# CTEST_RESOURCE_GROUP_0_GPUS="id:<n>,slots:1"; we pass <n> on as CUDA_VISIBLE_DEVICES.
# Outside ctest's resource allocation it runs the command unchanged.
set -u
spec=${CTEST_RESOURCE_GROUP_0_GPUS:-}
if [ -n "$spec" ]; then
  id=${spec#id:}
  id=${id%%,*}
  export CUDA_VISIBLE_DEVICES=$id
fi
exec "$@"
