"""A parsed inventory is compact: points share their fields-set and repeated names, and behave as before."""

from db.inventory import InventoryPoint, parse_inventory


def _meters(count: int) -> list[dict]:
    return [
        {
            "external_id": f"m{i}",
            "name": f"Meter {i}",
            "bacnet_address": f"127.0.0.{10 + i}",
            "points": [
                {"name": f"p{j}", "objectType": "analogInput", "instance": j, "unit": "kilowatt-hours"}
                for j in range(3)
            ],
        }
        for i in range(count)
    ]


def test_points_share_their_fields_set_and_repeated_strings():
    inventory = parse_inventory(_meters(2))
    first, second = inventory.meters[0].points[0], inventory.meters[1].points[0]
    assert first.model_fields_set is second.model_fields_set
    assert first.model_fields_set == {"name", "object_type", "instance", "unit"}
    assert first.name is second.name and first.unit is second.unit and first.object_type is second.object_type
    assert inventory.meters[0].model_fields_set is inventory.meters[1].model_fields_set


def test_a_shared_fields_set_is_never_changed_through_one_model():
    point = parse_inventory(_meters(2)).meters[0].points[0]
    shared = set(point.model_fields_set)
    copy = point.model_copy(update={"cov": True})
    assert copy.cov and "cov" in copy.model_fields_set
    assert point.model_fields_set == shared
    assert point.model_dump(exclude_unset=True) == {
        "name": "p0", "object_type": "analog-input", "instance": 0, "unit": "kilowatt-hours",
    }  # fmt: skip


def test_compact_inventories_compare_and_hash_as_before():
    inventory = parse_inventory(_meters(3))
    again = parse_inventory(inventory.document())
    assert again == inventory and again.digest() == inventory.digest()
    assert again.meters[0].points[0].model_fields_set != inventory.meters[0].points[0].model_fields_set
    edited = parse_inventory([{**_meters(3)[0], "name": "Boiler"}, *_meters(3)[1:]])
    assert edited != inventory


def test_points_name_their_bacnet_object_and_property_as_bacpypes3_reads_them():
    point = InventoryPoint(name="kw", objectType="analogValue", instance=7, property="presentValue")
    assert (point.object_id, point.property_id) == ("analog-value,7", "present-value")
