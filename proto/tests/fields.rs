//! The sync and admin contracts only grow: every field and enum value in
//! `proto/fields.lock` keeps its number, type and label, and no number is
//! reused under another name. A new field must be added to the lock (the
//! failure prints the lines); a changed one cannot be, because an agent of
//! the previous release still sends and reads the old meaning.

use std::collections::BTreeMap;

use prost::Message;
use prost_types::field_descriptor_proto::{Label, Type};
use prost_types::{DescriptorProto, EnumDescriptorProto, FileDescriptorSet};

/// `package.Message.field` -> (number, "type label").
type Fields = BTreeMap<String, (i32, String)>;

fn type_name(f: &prost_types::FieldDescriptorProto) -> String {
    match f.r#type() {
        Type::Message | Type::Enum => f.type_name().trim_start_matches('.').to_string(),
        t => t.as_str_name().trim_start_matches("TYPE_").to_lowercase(),
    }
}

fn label(f: &prost_types::FieldDescriptorProto) -> &'static str {
    match f.label() {
        Label::Repeated => "repeated",
        Label::Required => "required",
        // proto3: a singular field; `oneof` members are singular too.
        Label::Optional if f.oneof_index.is_some() && !f.proto3_optional() => "oneof",
        Label::Optional => "optional",
    }
}

fn enum_values(prefix: &str, e: &EnumDescriptorProto, out: &mut Fields) {
    for v in &e.value {
        out.insert(
            format!("{prefix}.{}.{}", e.name(), v.name()),
            (v.number(), "enum-value".into()),
        );
    }
}

fn message(prefix: &str, m: &DescriptorProto, out: &mut Fields) {
    let name = format!("{prefix}.{}", m.name());
    for f in &m.field {
        out.insert(
            format!("{name}.{}", f.name()),
            (f.number(), format!("{} {}", type_name(f), label(f))),
        );
    }
    for nested in &m.nested_type {
        message(&name, nested, out);
    }
    for e in &m.enum_type {
        enum_values(&name, e, out);
    }
}

/// Every field and enum value of the compiled contract (the descriptor set
/// `build.rs` made with protox from `proto/coso/v1/*.proto`).
fn current() -> Fields {
    let set = FileDescriptorSet::decode(coso_proto::pb::FILE_DESCRIPTOR_SET).unwrap();
    let mut out = Fields::new();
    for file in &set.file {
        for m in &file.message_type {
            message(file.package(), m, &mut out);
        }
        for e in &file.enum_type {
            enum_values(file.package(), e, &mut out);
        }
    }
    out
}

fn line(name: &str, (number, kind): &(i32, String)) -> String {
    format!("{name} = {number} {kind}")
}

fn parse_lock(text: &str) -> Fields {
    let mut out = Fields::new();
    for l in text.lines().map(str::trim) {
        if l.is_empty() || l.starts_with('#') {
            continue;
        }
        let (name, rest) = l
            .split_once(" = ")
            .unwrap_or_else(|| panic!("bad line {l:?}"));
        let (number, kind) = rest
            .split_once(' ')
            .unwrap_or_else(|| panic!("bad line {l:?}"));
        out.insert(
            name.to_string(),
            (
                number
                    .parse()
                    .unwrap_or_else(|_| panic!("bad number in {l:?}")),
                kind.to_string(),
            ),
        );
    }
    out
}

/// The owner of a field or value: `coso.v1.HelloRequest` for
/// `coso.v1.HelloRequest.pull_after`.
fn owner(name: &str) -> &str {
    name.rsplit_once('.').map_or(name, |(o, _)| o)
}

/// What breaks the promise, and the lines the lock lacks.
fn compare(lock: &Fields, now: &Fields) -> (Vec<String>, Vec<String>) {
    let mut broken = Vec::new();
    for (name, was) in lock {
        match now.get(name) {
            None => broken.push(format!("{} disappeared", line(name, was))),
            Some(is) if is != was => {
                broken.push(format!("{} changed to {}", line(name, was), line(name, is)))
            }
            Some(_) => {}
        }
    }
    let mut new = Vec::new();
    for (name, is) in now {
        if lock.contains_key(name) {
            continue;
        }
        let reused = lock
            .iter()
            .find(|(n, was)| owner(n) == owner(name) && was.0 == is.0);
        match reused {
            Some((n, was)) => broken.push(format!(
                "{} reuses the number of {}",
                line(name, is),
                line(n, was)
            )),
            None => new.push(line(name, is)),
        }
    }
    (broken, new)
}

#[test]
fn field_numbers_keep_their_meaning() {
    let lock = parse_lock(include_str!("../fields.lock"));
    let (broken, new) = compare(&lock, &current());
    assert!(
        broken.is_empty(),
        "the contract changed the meaning of a number (add a new field instead):\n{}",
        broken.join("\n")
    );
    assert!(
        new.is_empty(),
        "new fields: add these lines to proto/fields.lock (sorted):\n{}",
        new.join("\n")
    );
}

#[test]
fn the_comparison_catches_each_break() {
    let lock = parse_lock("a.M.x = 1 string optional\na.M.y = 2 uint64 repeated\n");
    let mut now = lock.clone();
    assert_eq!(compare(&lock, &now), (vec![], vec![]));
    now.insert("a.M.z".into(), (3, "bool optional".into()));
    assert_eq!(compare(&lock, &now).1, vec!["a.M.z = 3 bool optional"]);
    now.insert("a.M.x".into(), (4, "string optional".into()));
    assert_eq!(compare(&lock, &now).0.len(), 1, "a renumbered field");
    now.insert("a.M.x".into(), (1, "bytes optional".into()));
    assert_eq!(compare(&lock, &now).0.len(), 1, "a retyped field");
    now.remove("a.M.x");
    now.insert("a.M.w".into(), (1, "string optional".into()));
    let (broken, _) = compare(&lock, &now);
    assert_eq!(broken.len(), 2, "gone, and its number reused: {broken:?}");
}
