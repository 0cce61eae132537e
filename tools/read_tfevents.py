#!/usr/bin/env python3
"""Independent reader of TensorBoard event files (TFRecord of Event protobufs), stdlib only.

Written from the format description, not from the TypeScript writer, so the test in
tests/train/metrics_tensorboard_test.ts cross-checks two implementations:

  record = uint64 length (LE) | uint32 masked_crc32c(length bytes) (LE)
         | data[length]       | uint32 masked_crc32c(data) (LE)
  masked(c) = (((c >> 15) | (c << 17)) + 0xA282EAD8) mod 2^32
  CRC-32C: reflected polynomial 0x82F63B78, init and final XOR 0xFFFFFFFF (computed bit by bit)

  Event   { double wall_time = 1; int64 step = 2; string file_version = 3; Summary summary = 5 }
  Summary { repeated Value value = 1 }
  Value   { string tag = 1; float simple_value = 2 }

Usage: read_tfevents.py FILE   -> prints one JSON object per event on stdout; exits 1 with a
message on stderr when a CRC or the protobuf is wrong. Non-finite floats print as the strings
"NaN", "Infinity", "-Infinity".
"""
import json
import math
import struct
import sys


def crc32c_bitwise(data):
    crc = 0xFFFFFFFF
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0x82F63B78 if crc & 1 else crc >> 1
    return crc ^ 0xFFFFFFFF


def masked(crc):
    return ((((crc >> 15) | (crc << 17)) & 0xFFFFFFFF) + 0xA282EAD8) & 0xFFFFFFFF


def records(blob):
    pos = 0
    while pos < len(blob):
        if len(blob) - pos < 12:
            raise ValueError("truncated header at byte %d" % pos)
        head = blob[pos:pos + 8]
        (length,) = struct.unpack("<Q", head)
        (head_crc,) = struct.unpack("<I", blob[pos + 8:pos + 12])
        if masked(crc32c_bitwise(head)) != head_crc:
            raise ValueError("length CRC mismatch at byte %d" % pos)
        data = blob[pos + 12:pos + 12 + length]
        if len(data) != length or len(blob) < pos + 16 + length:
            raise ValueError("truncated record at byte %d" % pos)
        (data_crc,) = struct.unpack("<I", blob[pos + 12 + length:pos + 16 + length])
        if masked(crc32c_bitwise(data)) != data_crc:
            raise ValueError("data CRC mismatch at byte %d" % pos)
        yield data
        pos += 16 + length


def fields(msg):
    """Yields (field number, wire type, value): int for varints, bytes otherwise."""
    pos = 0

    def varint():
        nonlocal pos
        result = shift = 0
        while True:
            b = msg[pos]
            pos += 1
            result |= (b & 0x7F) << shift
            if not b & 0x80:
                return result
            shift += 7

    while pos < len(msg):
        key = varint()
        number, wire = key >> 3, key & 7
        if wire == 0:
            yield number, wire, varint()
        elif wire == 1:
            yield number, wire, msg[pos:pos + 8]
            pos += 8
        elif wire == 5:
            yield number, wire, msg[pos:pos + 4]
            pos += 4
        elif wire == 2:
            n = varint()
            yield number, wire, msg[pos:pos + n]
            pos += n
        else:
            raise ValueError("unsupported wire type %d" % wire)


def jsonable(x):
    if math.isnan(x):
        return "NaN"
    if math.isinf(x):
        return "Infinity" if x > 0 else "-Infinity"
    return x


def decode_event(data):
    event = {"wall_time": 0.0, "step": 0}
    for number, wire, value in fields(data):
        if number == 1 and wire == 1:
            event["wall_time"] = struct.unpack("<d", value)[0]
        elif number == 2 and wire == 0:
            event["step"] = value - (1 << 64) if value >= 1 << 63 else value
        elif number == 3 and wire == 2:
            event["file_version"] = value.decode("utf-8")
        elif number == 5 and wire == 2:
            values = event.setdefault("values", [])
            for n2, w2, v2 in fields(value):
                if n2 != 1 or w2 != 2:
                    continue
                tag, simple = "", None
                for n3, w3, v3 in fields(v2):
                    if n3 == 1 and w3 == 2:
                        tag = v3.decode("utf-8")
                    elif n3 == 2 and w3 == 5:
                        simple = struct.unpack("<f", v3)[0]
                if simple is not None:
                    values.append({"tag": tag, "value": jsonable(simple)})
    return event


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: read_tfevents.py FILE")
    with open(sys.argv[1], "rb") as f:
        blob = f.read()
    try:
        for data in records(blob):
            print(json.dumps(decode_event(data)))
    except (ValueError, IndexError, struct.error) as e:
        sys.stderr.write("Cannot read %s: %s\n" % (sys.argv[1], e))
        sys.exit(1)


if __name__ == "__main__":
    main()
