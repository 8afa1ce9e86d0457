"""Appointments as iCalendar (RFC 5545), with the ``icalendar`` library: the ``.ics`` attached
to a young person's confirmation and reminder, downloaded from their space, and each
counsellor's private feed. Appointments are stored in local wall time (Europe/Paris); the
files carry them in UTC, which every calendar reads."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

import icalendar

PARIS = ZoneInfo("Europe/Paris")
DURATION = dt.timedelta(minutes=45)


@dataclass(frozen=True)
class Event:
    uid: str
    start: dt.datetime  # local wall time
    summary: str
    location: str = ""
    description: str = ""
    url: str = ""
    duration: dt.timedelta = DURATION


def _utc(local: dt.datetime) -> dt.datetime:
    return local.replace(tzinfo=PARIS).astimezone(dt.UTC)


def ics(events: list[Event], name: str | None = None, stamp: dt.datetime | None = None) -> str:
    """One calendar holding ``events``; ``name``: the feed's name in the subscriber's app."""
    calendar = icalendar.Calendar()
    calendar.add("prodid", "-//Mission locale//Back-office//FR")
    calendar.add("version", "2.0")
    calendar.add("method", "PUBLISH")
    if name:
        calendar.add("x-wr-calname", name)
        calendar.add("refresh-interval", dt.timedelta(hours=1), parameters={"VALUE": "DURATION"})
    stamp = (stamp or dt.datetime.now(dt.UTC)).replace(tzinfo=dt.UTC)
    for item in events:
        event = icalendar.Event()
        event.add("uid", item.uid)
        event.add("dtstamp", stamp)
        event.add("dtstart", _utc(item.start))
        event.add("dtend", _utc(item.start + item.duration))
        event.add("summary", item.summary)
        if item.location:
            event.add("location", item.location)
        if item.description:
            event.add("description", item.description)
        if item.url:
            event.add("url", item.url)
        calendar.add_component(event)
    return calendar.to_ical().decode()
