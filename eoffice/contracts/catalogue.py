"""The events catalogue (docs/events.md): every event type the services emit, what it means and
the JSON Schema of its payload, inside the CloudEvents envelope. Generated from the contracts,
so it cannot drift from them; tests/unit/test_architecture.py fails when the file is stale.

    python -m eoffice.contracts.catalogue            # print it
    python -m eoffice.contracts.catalogue --write    # write docs/events.md"""

from __future__ import annotations

import argparse
import inspect
import json
import sys
from pathlib import Path
from types import ModuleType

from eoffice.contracts import dak, directory, files, notifications, signing, subscriptions
from eoffice.events import Envelope, EventPayload, source_of

PATH = Path(__file__).resolve().parents[2] / "docs" / "events.md"
COMMAND = "python -m eoffice.contracts.catalogue --write"
# One per emitting service (notify has two: notifying people, portal subscriptions), in the
# order the catalogue lists them.
CONTRACTS = (directory, dak, files, signing, subscriptions, notifications)

ENVELOPE = {  # what each CloudEvents attribute of eoffice.events.Envelope carries
    "specversion": "always `1.0`",
    "id": "unique per event (a UUID); a consumer that sees the same id twice has seen the same event",
    "source": "the emitting service, `eoffice/<service>`",
    "type": "the event type, versioned: one of those below",
    "subject": "what the event is about (a receipt's or file's id, a post's code), where it is about one thing",
    "time": "when it happened (RFC 3339, UTC)",
    "datacontenttype": "always `application/json`",
    "data": "the payload: a JSON object matching the type's schema below",
}

INTRO = """\
# Events

Generated from `eoffice/contracts/` by `{command}`: do not edit by hand.

The e-Office services tell each other, and other state portals, what happened by publishing
**events**: a receipt was diarised, a file was sent, a green note was added. Each event is a
fact about the past; it is never withdrawn, and a later event may supersede it.

**Envelope.** Every event travels as a [CloudEvents 1.0](https://github.com/cloudevents/spec/blob/v1.0.2/cloudevents/spec.md)
structured-mode JSON object:

| attribute | type | meaning |
|---|---|---|
{envelope}

```json
{example}
```

**Delivery.** Events are written in the same database transaction as the change they report
(an outbox) and published afterwards, so none is lost when the broker is away. Delivery is
therefore *at least once*, and not necessarily in order (a retried delivery comes late): keep
the `id`s you have handled and do the work once, and use `time` to order what you show. Inside
the system each service publishes to its durable RabbitMQ topic exchange `<service>.events`
(e.g. `files.events`) with the event type as routing key. External portals receive the same
envelopes through the notify service's subscriptions, by webhook or AMQP: see
[subscribers.md](subscribers.md).

**Versions.** The type names its version (`.v1`). Within a version, fields may be added but are
never removed, renamed or changed in meaning: ignore fields you do not know. A change that would
break a consumer gets a new type (`.v2`), published beside the old one for a while.
"""


def events_of(contract: ModuleType) -> list[type[EventPayload]]:
    """Returns the events a contract module defines, in the order they are written; bases that
    are never emitted themselves (no `event_type`) are left out."""
    found = [
        cls
        for _, cls in inspect.getmembers(contract, inspect.isclass)
        if issubclass(cls, EventPayload) and cls.__module__ == contract.__name__ and hasattr(cls, "event_type")
    ]
    return sorted(found, key=lambda cls: inspect.getsourcelines(cls)[1])


def every_event() -> list[tuple[str, type[EventPayload]]]:
    """Returns (emitting service, event) for every event in the catalogue."""
    return [(contract.SERVICE, event) for contract in CONTRACTS for event in events_of(contract)]


def _envelope_rows() -> str:
    schema = Envelope.model_json_schema()["properties"]
    missing = set(schema) ^ set(ENVELOPE)
    if missing:
        raise RuntimeError(f"describe the envelope's attributes in ENVELOPE: {sorted(missing)}")

    def kind(prop: dict) -> str:
        options = prop.get("anyOf", [prop])
        return " or ".join(o.get("format", o.get("type", "?")) for o in options)

    return "\n".join(f"| `{name}` | {kind(schema[name])} | {ENVELOPE[name]} |" for name in schema)


def _example() -> str:
    service, event = every_event()[0]
    return json.dumps(
        {
            "specversion": "1.0",
            "id": "9f1c0a53-2b7e-4d51-a1c6-0f5f3c1e8a2d",
            "source": source_of(service),
            "type": event.event_type,
            "subject": "…",
            "time": "2025-04-01T05:30:00Z",
            "datacontenttype": "application/json",
            "data": {"…": "…"},
        },
        indent=2,
        ensure_ascii=False,
    )


def render() -> str:
    """Returns the whole catalogue as Markdown."""
    parts = [INTRO.format(command=COMMAND, envelope=_envelope_rows(), example=_example())]
    parts.append(
        "## Index\n\n| type | source |\n|---|---|\n"
        + "\n".join(
            f"| [`{event.event_type}`](#{_anchor(event.event_type)}) | `{source_of(service)}` |"
            for service, event in every_event()
        )
        + "\n"
    )
    for service in dict.fromkeys(contract.SERVICE for contract in CONTRACTS):
        parts.append(f"## From {service} (`source`: `{source_of(service)}`)\n")
        for event in (event for emitter, event in every_event() if emitter == service):
            schema = json.dumps(event.model_json_schema(), indent=2, ensure_ascii=False)
            parts.append(
                f"### {event.event_type}\n\n{inspect.cleandoc(event.__doc__ or '')}\n\n"
                f"Payload (`data`), JSON Schema:\n\n```json\n{schema}\n```\n"
            )
    return "\n".join(parts)


def _anchor(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation but - and _ dropped, spaces as -."""
    return "".join(c for c in heading.lower() if c.isalnum() or c in "-_ ").replace(" ", "-")


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m eoffice.contracts.catalogue",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--write", action="store_true", help=f"write {PATH.relative_to(PATH.parents[1])}")
    args = parser.parse_args(argv)
    text = render()
    if args.write:
        PATH.write_text(text, encoding="utf-8")
        print(f"wrote {PATH}", file=sys.stderr)
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
