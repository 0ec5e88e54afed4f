"""GraphQL documents the dashboard sends, with the names of docs/contracts.md."""

LOGIN = """
mutation Login($email: String!, $password: String!) {
  login(email: $email, password: $password) {
    __typename
    ... on LoginSuccess { token expiresAt user { id email role } }
    ... on LoginFailed { reason }
  }
}"""

ME = "query { me { id email role isActive } }"

SITE_FIELDS = """id name timezone isActive maintenance status lastHeartbeatAt queueDepth
  oldestQueuedAgeSeconds agentVersion metersTotal metersReachable todayEnergyKwh allowedNetworks
  ageSeconds stale"""

FLEET = """
query Fleet($status: FleetStatus, $search: String, $sort: FleetSort!, $first: Int!, $offset: Int!) {
  fleet(status: $status, search: $search, sort: $sort, first: $first, offset: $offset) {
    total sitesOffline todayEnergyKwh openAlerts
    counts { online degraded offline maintenance unknown }
    items { openAlerts powerToday site { id name isActive maintenance status lastHeartbeatAt queueDepth
             metersTotal metersReachable todayEnergyKwh ageSeconds stale } }
  }
}"""

SITES = f"query Sites($search: String) {{ sites(search: $search) {{ {SITE_FIELDS} }} }}"

POINT_FIELDS = "id name objectType instance property unit cumulative cov lastValue lastTs ageSeconds stale"
METER_FIELDS = f"""id siteId externalId name bacnetDeviceId bacnetAddress enabled discovered reachable
  state intervalSeconds lastError lastSeenAt ageSeconds staleAfterSeconds dataPoints {{ {POINT_FIELDS} }}"""

SITE = f"query Site($id: ID!) {{ site(id: $id) {{ {SITE_FIELDS} simulatedFrom simulatedUntil meters {{ {METER_FIELDS} }} }} }}"

READINGS = """
query Readings($meterId: ID!, $point: String!, $start: DateTime!, $end: DateTime!,
               $resolution: Resolution!, $after: String) {
  readings(meterId: $meterId, point: $point, start: $start, end: $end, resolution: $resolution,
           first: 1000, after: $after) {
    items { ts value min max count quality }
    pageInfo { hasNextPage endCursor }
  }
}"""

ENERGY = """
query Energy($meterId: ID!, $point: String!, $start: DateTime!, $end: DateTime!,
             $resolution: EnergyResolution!) {
  energy(meterId: $meterId, point: $point, start: $start, end: $end, resolution: $resolution, first: 1000) {
    cumulative timezone currency
    items { start end consumption peakDemand completeness quality partial cost }
  }
}"""

ALERT_FIELDS = """id siteId siteName meterId kind severity message openedAt resolvedAt acknowledgedAt
  acknowledgedBy"""

ALERTS = f"""
query Alerts($status: AlertStatus!, $siteId: ID, $limit: Int!) {{
  alerts(status: $status, siteId: $siteId, limit: $limit) {{ {ALERT_FIELDS} }}
}}"""

ACKNOWLEDGE = f"mutation Ack($id: ID!) {{ acknowledgeAlert(id: $id) {{ {ALERT_FIELDS} }} }}"

USERS = "query { users { id email role isActive createdAt } }"

CREATE_SITE = f"""
mutation CreateSite($name: String!, $timezone: String!) {{
  createSite(name: $name, timezone: $timezone) {{ apiKey site {{ {SITE_FIELDS} }} }}
}}"""

ROTATE_KEY = f"""
mutation Rotate($siteId: ID!) {{ rotateSiteKey(siteId: $siteId) {{ apiKey site {{ {SITE_FIELDS} }} }} }}"""

SET_SITE_ACTIVE = f"""
mutation SetActive($siteId: ID!, $active: Boolean!) {{
  setSiteActive(siteId: $siteId, active: $active) {{ {SITE_FIELDS} }}
}}"""

SET_SITE_NETWORKS = f"""
mutation SetNetworks($siteId: ID!, $networks: [String!]!) {{
  setSiteAllowedNetworks(siteId: $siteId, networks: $networks) {{ {SITE_FIELDS} }}
}}"""

CREATE_USER = """
mutation CreateUser($email: String!, $password: String!, $role: String!) {
  createUser(email: $email, password: $password, role: $role) { id email role isActive createdAt }
}"""

UPDATE_USER = """
mutation UpdateUser($id: ID!, $role: String, $isActive: Boolean) {
  updateUser(id: $id, role: $role, isActive: $isActive) { id email role isActive createdAt }
}"""

UPSERT_METER = f"""
mutation UpsertMeter($siteId: ID!, $meter: MeterInput!) {{
  upsertMeter(siteId: $siteId, meter: $meter) {{ {METER_FIELDS} }}
}}"""

DELETE_METER = "mutation DeleteMeter($meterId: ID!) { deleteMeter(meterId: $meterId) }"

INVENTORY_FIELDS = """version digest
  meters { externalId name bacnetAddress bacnetDeviceId enabled intervalSeconds
           points { name objectType instance property unit cumulative cov } }
  conflicts { meter field kept dropped }
  history { version baseVersion origin author createdAt changes conflicts { meter field kept dropped } }"""

SITE_INVENTORY = f"""
query SiteInventory($siteId: ID!) {{ siteInventory(siteId: $siteId, history: 50) {{ {INVENTORY_FIELDS} }} }}"""

EDIT_METER = f"""
mutation EditMeter($siteId: ID!, $meter: MeterEditInput!) {{
  editMeter(siteId: $siteId, meter: $meter) {{ {INVENTORY_FIELDS} }}
}}"""

REMOVE_METER = f"""
mutation RemoveMeter($siteId: ID!, $externalId: String!) {{
  removeMeter(siteId: $siteId, externalId: $externalId) {{ {INVENTORY_FIELDS} }}
}}"""

SITE_STATUS_CHANGED = """
subscription { siteStatusChanged { siteId name status lastHeartbeatAt queueDepth } }"""

READINGS_ADDED = """
subscription ReadingsAdded($siteId: ID) {
  readingsAdded(siteId: $siteId) { siteId meterId count latest { meterExternalId dataPoint ts value unit } }
}"""

ALERT_RAISED = f"subscription {{ alertRaised {{ {ALERT_FIELDS} }} }}"
ALERT_RESOLVED = f"subscription {{ alertResolved {{ {ALERT_FIELDS} }} }}"

SITE_GRANTS = "query { siteGrants { userId email siteId siteName role } sites { id name } }"

GRANT_SITE = """
mutation GrantSite($userId: ID!, $siteId: ID!, $role: String!) {
  grantSite(userId: $userId, siteId: $siteId, role: $role) { siteId }
}"""

REVOKE_SITE = """
mutation RevokeSite($userId: ID!, $siteId: ID!) { revokeSite(userId: $userId, siteId: $siteId) { siteId } }"""

CHANGE_PASSWORD = """
mutation ChangePassword($old: String!, $new: String!) {
  changePassword(oldPassword: $old, newPassword: $new) { token expiresAt user { id email role } }
}"""

LOGOUT = "mutation Logout { logout }"
