"""One scene per capability, in tour order. Each has NAME, seed(world) and STEPS."""

from sandbox.scenes import dispatch, jira_sync, oncall, statuspage, support

SCENES = (oncall, dispatch, support, statuspage, jira_sync)
