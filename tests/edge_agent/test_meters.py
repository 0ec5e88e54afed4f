"""The collector's meters are the running inventory's, not a second pydantic copy of it."""

from db.inventory import parse_inventory
from edge_agent.inventory import meter_configs_of, polled_meters_of

METERS = [
    {
        "external_id": "meter-001",
        "name": "Main",
        "bacnet_address": "127.0.0.10",
        "bacnet_device_id": 1001,
        "interval_seconds": 30,
        "points": [
            {"name": "total_kwh", "instance": 0, "unit": "kilowatt-hours", "cumulative": True},
            {"name": "current_kw", "objectType": "analogValue", "instance": 1, "cov": True},
        ],
    },
    {"external_id": "meter-002", "name": "Spare", "bacnet_address": "5:12", "enabled": False},
]


def test_polled_meters_share_the_inventory_points():
    inventory = parse_inventory(METERS)
    polled = polled_meters_of(inventory)
    assert polled[0].data_points is inventory.meters[0].points
    assert [p.object_id for p in polled[0].data_points] == ["analog-input,0", "analog-value,1"]


def test_polled_meters_read_and_store_as_meter_configs_do():
    inventory = parse_inventory(METERS)
    for polled, config in zip(polled_meters_of(inventory), meter_configs_of(inventory), strict=True):
        assert polled.to_row() == config.to_row()
        for name in ("id", "name", "address", "bacnet_device_id", "enabled", "interval_seconds"):
            assert getattr(polled, name) == getattr(config, name)
        for mine, theirs in zip(polled.data_points, config.data_points, strict=True):
            assert (mine.object_id, mine.property_id) == (theirs.object_id, theirs.property_id)
