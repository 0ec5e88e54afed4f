"""GraphQL documents the on-site dashboard sends to the local API."""

STATUS_FIELDS = """
  agentVersion collecting collectionIntervalSeconds lastPollAt metersTotal metersReachable queueDepth
  oldestQueuedAgeSeconds outboxFull deadLetterCount centralState centralDetail centralReachable centralSince
  centralUnreachableSeconds lastSyncAt lastSyncOutcome lastSyncSuccess lastSyncMessage siteName checkedAt
  centralOutage { since seconds alerting } bbmdAddress bbmdState
  alerts { kind meter startedAt message } siteTimezone simulatedFrom simulatedUntil
"""

STATUS = "query { loginRequired status { " + STATUS_FIELDS + " } }"
STATUS_CHANGED = "subscription { statusChanged { " + STATUS_FIELDS + " } }"
LOGIN_REQUIRED = "query { loginRequired }"
LOGIN = """mutation($password: String!) { login(password: $password) {
  __typename ... on LoginSuccess { token expiresAt } ... on LoginFailed { reason } } }"""

METER_FIELDS = """externalId name bacnetDeviceId bacnetAddress enabled state reachable lastError lastErrorAt
  lastSeenAt dataPoints latest { dataPoint ts value unit quality ageSeconds stale }"""
METERS = "query { meters { " + METER_FIELDS + " } }"
READINGS = """query($meter: String!, $point: String!) {
  readings(meter: $meter, point: $point, hours: 24, maxPoints: 300) { ts value } }"""
LIVE_VALUES = "subscription { liveValues { meterExternalId dataPoint ts value unit quality } }"

SYNC_PAGE = """query { deadLetters(limit: 100) { id meterExternalId dataPoint ts value unit reason deadAt }
  syncLog(limit: 20) { startedAt batchSize new duplicates rejected success outcome errorMessage } }"""
TRIGGER_SYNC = (
    "mutation { triggerSync { outcome batches acknowledged new duplicates rejected queueDepth errors } }"
)
START_COLLECTION = "mutation { startCollection { " + STATUS_FIELDS + " } }"
STOP_COLLECTION = "mutation { stopCollection { " + STATUS_FIELDS + " } }"

DISCOVERY_RANGE = "query { discoveryRange meters { externalId name dataPoints } }"
DISCOVER = """mutation($range: String) { discoverDevices(addressRange: $range) {
  address deviceId name configuredMeter objects { objectType instance name units presentValue } } }"""
ADD_DEVICE = """mutation($address: String!) { addDiscoveredDevice(address: $address) { externalId } }"""
TEST_READ = """mutation($meter: String!, $point: String) { testRead(meter: $meter, point: $point) {
  meter address ok error pointErrors values { name value unit quality } elapsedMs } }"""

INVENTORY = """query { inventory { version pending pendingOrigin digest
  meters { externalId name bacnetAddress bacnetDeviceId enabled intervalSeconds
           points { name objectType instance property unit cumulative cov } }
  conflicts { meter field kept dropped }
  history { version origin author createdAt changes conflicts { meter field kept dropped } } } }"""
SAVE_METER = """mutation($meter: MeterConfigInput!) { saveMeterConfig(meter: $meter) { externalId } }"""
