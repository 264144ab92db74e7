"""Helpers for the residency tests: sync check-ins as a phone would."""
from __future__ import annotations

import uuid as uuidlib
from typing import Any

from geopy.distance import geodesic


def point_at(centre: tuple[float, float], metres: float, bearing: float = 90.0):
    """The WGS-84 point `metres` from `centre` on `bearing` (geodesic, like the server)."""
    p = geodesic(meters=metres).destination(centre, bearing)
    return p.latitude, p.longitude


def checkin_record(at: str, lat: float | None = None, lon: float | None = None,
                   accuracy: float | None = 15.0, token: str | None = None,
                   geo_error: str | None = None, uuid: str | None = None) -> dict[str, Any]:
    geo = None if lat is None else {"lat": lat, "lon": lon, "accuracy": accuracy, "at": at}
    return {"uuid": uuid or str(uuidlib.uuid4()), "type": "checkin",
            "payload": {"at": at, "geo": geo, "geo_error": geo_error if geo is None else None,
                        "village_token": token}}


def sync(client, *records: dict, device_sent_at: str | None = None):
    body: dict[str, Any] = {"records": list(records)}
    if device_sent_at is not None:
        body["device_sent_at"] = device_sent_at
    return client.post("/api/sync", json=body)


def checkin(client, at: str, *args, device_sent_at: str | None = None, **kwargs):
    response = sync(client, checkin_record(at, *args, **kwargs), device_sent_at=device_sent_at)
    assert response.status_code == 200, response.get_json()
    return response.get_json()["results"][0]
