"""Writes Flower's Fleet-API .proto files, exactly as the installed flwr wheel compiled them.

The flwr wheel and sdist on PyPI ship no .proto sources, only the compiled descriptors inside
``flwr/proto/*_pb2.py``; those descriptors are what the pinned SuperLink speaks. This script prints them back as
.proto text (proto3: messages, nested messages, maps, oneofs, proto3 ``optional``, enums, services), under Flower's
Apache-2.0 header. ``verify`` compares the descriptors that buf compiles from the vendored files with the wheel's,
field by field (json names aside), and exits 1 on any difference.

    .venv-flower/bin/python federated/proto/extract_from_wheel.py write federated/proto
    .venv-flower/bin/python federated/proto/extract_from_wheel.py verify descriptor-set.binpb
"""

import importlib
import sys
from pathlib import Path

from google.protobuf import descriptor_pb2 as d

import flwr

FILES = ["error", "node", "recorddict", "transport", "message", "run", "fab", "heartbeat", "fleet"]

HEADER = """// Copyright 2022 Flower Labs GmbH. All Rights Reserved.
//
// Licensed under the Apache License, Version 2.0 (the "License");
// you may not use this file except in compliance with the License.
// You may obtain a copy of the License at
//
//     http://www.apache.org/licenses/LICENSE-2.0
//
// Unless required by applicable law or agreed to in writing, software
// distributed under the License is distributed on an "AS IS" BASIS,
// WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
// See the License for the specific language governing permissions and
// limitations under the License.
// ==============================================================================
//
// Flower {version} ({name}): printed from the descriptor compiled into the flwr=={version} wheel
// (flwr/proto/{stem}_pb2.py) by layerhive's federated/proto/extract_from_wheel.py. Comments of the original are
// not in the descriptor and so not here; fields, numbers, types and services are.
"""

SCALARS = {
    d.FieldDescriptorProto.TYPE_DOUBLE: "double",
    d.FieldDescriptorProto.TYPE_FLOAT: "float",
    d.FieldDescriptorProto.TYPE_INT64: "int64",
    d.FieldDescriptorProto.TYPE_UINT64: "uint64",
    d.FieldDescriptorProto.TYPE_INT32: "int32",
    d.FieldDescriptorProto.TYPE_FIXED64: "fixed64",
    d.FieldDescriptorProto.TYPE_FIXED32: "fixed32",
    d.FieldDescriptorProto.TYPE_BOOL: "bool",
    d.FieldDescriptorProto.TYPE_STRING: "string",
    d.FieldDescriptorProto.TYPE_BYTES: "bytes",
    d.FieldDescriptorProto.TYPE_UINT32: "uint32",
    d.FieldDescriptorProto.TYPE_SFIXED32: "sfixed32",
    d.FieldDescriptorProto.TYPE_SFIXED64: "sfixed64",
    d.FieldDescriptorProto.TYPE_SINT32: "sint32",
    d.FieldDescriptorProto.TYPE_SINT64: "sint64",
}


def wheel_descriptor(stem):
    module = importlib.import_module(f"flwr.proto.{stem}_pb2")
    fd = d.FileDescriptorProto()
    module.DESCRIPTOR.CopyToProto(fd)
    return fd


def type_name(field, package):
    if field.type in SCALARS:
        return SCALARS[field.type]
    name = field.type_name.lstrip(".")
    return name[len(package) + 1 :] if name.startswith(package + ".") else name


def print_message(msg, package, indent, out):
    pad = "  " * indent
    out.append(f"{pad}message {msg.name} {{")
    entries = {n.name: n for n in msg.nested_type if n.options.map_entry}
    for nested in msg.nested_type:
        if not nested.options.map_entry:
            print_message(nested, package, indent + 1, out)
    for enum in msg.enum_type:
        print_enum(enum, indent + 1, out)
    real_oneofs = {}
    for field in msg.field:
        if field.HasField("oneof_index") and not field.proto3_optional:
            real_oneofs.setdefault(field.oneof_index, []).append(field)
    done_oneofs = set()
    for field in msg.field:
        if field.HasField("oneof_index") and not field.proto3_optional:
            index = field.oneof_index
            if index in done_oneofs:
                continue
            done_oneofs.add(index)
            out.append(f"{pad}  oneof {msg.oneof_decl[index].name} {{")
            for member in real_oneofs[index]:
                out.append(f"{pad}    {type_name(member, package)} {member.name} = {member.number};")
            out.append(f"{pad}  }}")
            continue
        out.append(f"{pad}  {field_type(field, package, entries)} {field.name} = {field.number};")
    out.append(f"{pad}}}")


def field_type(field, package, entries):
    short = field.type_name.rsplit(".", 1)[-1]
    if field.label == d.FieldDescriptorProto.LABEL_REPEATED and short in entries:
        key, value = entries[short].field
        return f"map<{type_name(key, package)}, {type_name(value, package)}>"
    prefix = "repeated " if field.label == d.FieldDescriptorProto.LABEL_REPEATED else ""
    prefix = "optional " if field.proto3_optional else prefix
    return prefix + type_name(field, package)


def print_enum(enum, indent, out):
    pad = "  " * indent
    out.append(f"{pad}enum {enum.name} {{")
    for value in enum.value:
        out.append(f"{pad}  {value.name} = {value.number};")
    out.append(f"{pad}}}")


def print_file(fd, stem):
    out = [HEADER.format(version=flwr.__version__, name=fd.name, stem=stem), 'syntax = "proto3";', ""]
    out.append(f"package {fd.package};")
    out.append("")
    for dep in fd.dependency:
        out.append(f'import "{dep}";')
    if fd.dependency:
        out.append("")
    for service in fd.service:
        out.append(f"service {service.name} {{")
        for m in service.method:
            streams = ("stream " if m.client_streaming else "", "stream " if m.server_streaming else "")
            arg, ret = (type_name_of(m.input_type, fd.package), type_name_of(m.output_type, fd.package))
            out.append(f"  rpc {m.name}({streams[0]}{arg}) returns ({streams[1]}{ret}) {{}}")
        out.append("}")
        out.append("")
    for enum in fd.enum_type:
        print_enum(enum, 0, out)
        out.append("")
    for msg in fd.message_type:
        print_message(msg, fd.package, 0, out)
        out.append("")
    return "\n".join(out).rstrip() + "\n"


def type_name_of(name, package):
    name = name.lstrip(".")
    return name[len(package) + 1 :] if name.startswith(package + ".") else name


def normalised(fd):
    fd.ClearField("source_code_info")
    fd.DiscardUnknownFields()  # buf records its own extension fields

    def strip(msg):
        for field in msg.field:
            field.ClearField("json_name")
        for nested in msg.nested_type:
            strip(nested)

    for msg in fd.message_type:
        strip(msg)
    return fd


def main():
    command, target = sys.argv[1], Path(sys.argv[2])
    if command == "write":
        for stem in FILES:
            path = target / "flwr" / "proto" / f"{stem}.proto"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(print_file(wheel_descriptor(stem), stem))
        return 0
    compiled = d.FileDescriptorSet()
    compiled.ParseFromString(target.read_bytes())
    by_name = {fd.name: normalised(fd) for fd in compiled.file}
    bad = [s for s in FILES if by_name.get(f"flwr/proto/{s}.proto") != normalised(wheel_descriptor(s))]
    if bad:
        print(f"differ from flwr=={flwr.__version__}: {', '.join(bad)}")
        return 1
    print(f"{len(FILES)} .proto files match flwr=={flwr.__version__}'s descriptors")
    return 0


if __name__ == "__main__":
    sys.exit(main())
