"""GraphQL documents of the alerting pages: alerts with filters, rules and their preview, outlook, windows, e-mails."""

ALERT_FIELDS = """id siteId siteName meterId kind severity message openedAt resolvedAt acknowledgedAt
  acknowledgedBy acknowledgedNote resolvedBy"""

ALERTS = f"""
query Alerts($status: AlertStatus!, $siteId: ID, $kind: String, $severity: String, $limit: Int!) {{
  alerts(status: $status, siteId: $siteId, kind: $kind, severity: $severity, limit: $limit) {{ {ALERT_FIELDS} }}
}}"""

ACKNOWLEDGE = f"""
mutation Ack($id: ID!, $note: String) {{ acknowledgeAlert(id: $id, note: $note) {{ {ALERT_FIELDS} }} }}"""

RESOLVE = f"mutation Resolve($id: ID!) {{ resolveAlert(id: $id) {{ {ALERT_FIELDS} }} }}"

SITE_NAMES = "query { sites { id name timezone } }"

RULE_FIELDS = "id kind siteId enabled threshold thresholdUnit description severity pendingSeconds recipients"

RULES = f"query {{ alertRules {{ {RULE_FIELDS} }} }}"

CREATE_RULE = f"""
mutation CreateRule($kind: String!, $siteId: ID, $rule: AlertRuleInput) {{
  createAlertRule(kind: $kind, siteId: $siteId, rule: $rule) {{ {RULE_FIELDS} }}
}}"""

UPDATE_RULE = f"""
mutation UpdateRule($id: ID!, $rule: AlertRuleInput!) {{ updateAlertRule(id: $id, rule: $rule) {{ {RULE_FIELDS} }} }}"""

DELETE_RULE = "mutation DeleteRule($id: ID!) { deleteAlertRule(id: $id) }"

OUTLOOK_FIELDS = (
    "ruleId kind severity siteId siteName siteTimezone meterId meterExternalId message state alertsAt"
)

OUTLOOK = f"query Outlook($siteId: ID) {{ alertOutlook(siteId: $siteId) {{ {OUTLOOK_FIELDS} }} }}"

PREVIEW = (
    f"query Preview($draft: AlertRuleDraft!) {{ alertRulePreview(draft: $draft) {{ {OUTLOOK_FIELDS} }} }}"
)

WINDOW_FIELDS = "id siteId startsAt endsAt repeat note createdBy timezone activeNow nextStart nextEnd"

WINDOWS = f"query Windows($siteId: ID!) {{ maintenanceWindows(siteId: $siteId) {{ {WINDOW_FIELDS} }} }}"

CREATE_WINDOW = f"""
mutation CreateWindow($siteId: ID!, $window: MaintenanceWindowInput!) {{
  createMaintenanceWindow(siteId: $siteId, window: $window) {{ {WINDOW_FIELDS} }}
}}"""

UPDATE_WINDOW = f"""
mutation UpdateWindow($id: ID!, $window: MaintenanceWindowInput!) {{
  updateMaintenanceWindow(id: $id, window: $window) {{ {WINDOW_FIELDS} }}
}}"""

DELETE_WINDOW = "mutation DeleteWindow($id: ID!) { deleteMaintenanceWindow(id: $id) }"

DEMO_EMAILS = (
    "query { demoEmails(limit: 200) { enabled emails { id subject sender recipients sentAt text } } }"
)
