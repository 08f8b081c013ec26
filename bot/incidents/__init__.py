"""The PagerDuty incident poller that feeds the status page and Jira sync."""
