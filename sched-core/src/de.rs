//! Reading a spec with the path of a bad value in the error: `mode: unknown variant ...`,
//! `schedulers[1].gamma: invalid type ...`, `lr_lambda: invalid expression at byte 15: ...`.
//!
//! A spec's `kind` may come after its parameters, so the object is buffered (this is why the
//! `serde` feature needs `alloc`) into a [`Value`], which is then read again through
//! [`ValueDe`]: a deserializer that yields `kind` first, so that nested specs stream without
//! buffering again, and that remembers where the first error arose. The outermost spec puts
//! that path in front of the message. Integer and float fields say what they expect in words
//! (`a non-negative integer`, `an integer >= 1`, `a number`) rather than `u32` or `f32`.

use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::cell::RefCell;
use core::fmt;
use core::marker::PhantomData;
use serde::de::value::MapAccessDeserializer;
use serde::de::{
    self, DeserializeSeed, Deserializer, IntoDeserializer, MapAccess, SeqAccess, Unexpected,
    Visitor,
};
use serde::Deserialize;

/// The struct name a spec asks for; [`ValueDe`] answers it with `visit_newtype_struct`, which
/// tells the spec that it is already being read from a buffered, tracked value.
const TRACKED: &str = "$sched_core::spec";

/// A buffered self-describing value (what JSON and TOML hold).
#[derive(Clone, Debug)]
enum Value {
    Unit,
    Bool(bool),
    U64(u64),
    I64(i64),
    F64(f64),
    Str(String),
    Seq(Vec<Value>),
    Map(Vec<(String, Value)>),
}

impl<'de> Deserialize<'de> for Value {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(ValueVisitor)
    }
}

struct ValueVisitor;

impl<'de> Visitor<'de> for ValueVisitor {
    type Value = Value;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON or TOML value")
    }
    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::I64(v))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::U64(v))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(Value::F64(v))
    }
    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::Str(v.to_string()))
    }
    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Unit)
    }
    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Unit)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        Value::deserialize(d)
    }
    fn visit_newtype_struct<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        Value::deserialize(d)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(v) = seq.next_element()? {
            items.push(v);
        }
        Ok(Value::Seq(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut entries = Vec::new();
        while let Some(k) = map.next_key::<String>()? {
            entries.push((k, map.next_value()?));
        }
        Ok(Value::Map(entries))
    }
}

/// Where a value sits in the spec: `schedulers[1].gamma`.
#[derive(Clone, Copy)]
enum Path<'a> {
    Root,
    Key(&'a Path<'a>, &'a str),
    Index(&'a Path<'a>, usize),
}

impl fmt::Display for Path<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Path::Root => Ok(()),
            Path::Key(Path::Root, k) => f.write_str(k),
            Path::Key(p, k) => write!(f, "{p}.{k}"),
            Path::Index(p, i) => write!(f, "{p}[{i}]"),
        }
    }
}

/// The path of the first (innermost) error.
#[derive(Default)]
struct Track(RefCell<Option<String>>);

impl Track {
    fn record(&self, path: Path<'_>) {
        let mut slot = self.0.borrow_mut();
        if slot.is_none() && !matches!(path, Path::Root) {
            *slot = Some(path.to_string());
        }
    }

    fn wrap<E: de::Error>(&self, e: E) -> E {
        match self.0.borrow_mut().take() {
            Some(path) => E::custom(format_args!("{path}: {e}")),
            None => e,
        }
    }
}

/// Reads a buffered [`Value`], tracking the path.
struct ValueDe<'a, E> {
    value: &'a Value,
    path: Path<'a>,
    track: &'a Track,
    error: PhantomData<E>,
}

impl<'a, E> ValueDe<'a, E> {
    fn new(value: &'a Value, path: Path<'a>, track: &'a Track) -> Self {
        ValueDe {
            value,
            path,
            track,
            error: PhantomData,
        }
    }
}

impl<'de, E: de::Error> Deserializer<'de> for ValueDe<'_, E> {
    type Error = E;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, E> {
        match self.value {
            Value::Unit => visitor.visit_unit(),
            Value::Bool(v) => visitor.visit_bool(*v),
            Value::U64(v) => visitor.visit_u64(*v),
            Value::I64(v) => visitor.visit_i64(*v),
            Value::F64(v) => visitor.visit_f64(*v),
            Value::Str(v) => visitor.visit_str(v),
            Value::Seq(items) => visitor.visit_seq(SeqDe {
                items,
                next: 0,
                path: self.path,
                track: self.track,
                error: PhantomData,
            }),
            Value::Map(entries) => visitor.visit_map(MapDe {
                entries,
                kind: entries.iter().position(|(k, _)| k == "kind"),
                next: 0,
                value: None,
                path: self.path,
                track: self.track,
                error: PhantomData,
            }),
        }
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, E> {
        match self.value {
            Value::Unit => visitor.visit_none(),
            _ => visitor.visit_some(self),
        }
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, E> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, E> {
        if name == TRACKED {
            visitor.visit_newtype_struct(self)
        } else {
            self.deserialize_any(visitor)
        }
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, E> {
        match self.value {
            Value::Str(s) => visitor.visit_enum(s.as_str().into_deserializer()),
            _ => self.deserialize_any(visitor),
        }
    }

    fn deserialize_u32<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, E> {
        self.deserialize_any(Count(visitor))
    }

    fn deserialize_f32<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, E> {
        self.deserialize_any(Number(visitor))
    }

    fn deserialize_f64<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, E> {
        self.deserialize_any(Number(visitor))
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u64 u128 char str string bytes byte_buf unit
        unit_struct seq tuple tuple_struct map identifier ignored_any
    }
}

struct SeqDe<'a, E> {
    items: &'a [Value],
    next: usize,
    path: Path<'a>,
    track: &'a Track,
    error: PhantomData<E>,
}

impl<'de, E: de::Error> SeqAccess<'de> for SeqDe<'_, E> {
    type Error = E;

    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, E> {
        let Some(item) = self.items.get(self.next) else {
            return Ok(None);
        };
        let path = Path::Index(&self.path, self.next);
        self.next += 1;
        seed.deserialize(ValueDe::new(item, path, self.track))
            .map(Some)
            .inspect_err(|_| self.track.record(path))
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.items.len() - self.next)
    }
}

/// A map's entries, `kind` first.
struct MapDe<'a, E> {
    entries: &'a [(String, Value)],
    kind: Option<usize>,
    next: usize,
    value: Option<&'a (String, Value)>,
    path: Path<'a>,
    track: &'a Track,
    error: PhantomData<E>,
}

impl<'de, E: de::Error> MapAccess<'de> for MapDe<'_, E> {
    type Error = E;

    fn next_key_seed<K: DeserializeSeed<'de>>(&mut self, seed: K) -> Result<Option<K::Value>, E> {
        let i = match self.kind {
            Some(k) if self.next == 0 => k,
            Some(k) if self.next <= k => self.next - 1,
            _ => self.next,
        };
        let Some(entry) = self.entries.get(i) else {
            return Ok(None);
        };
        self.next += 1;
        self.value = Some(entry);
        // An unknown key is the map's error: the caller records the map's path.
        seed.deserialize(entry.0.as_str().into_deserializer())
            .map(Some)
    }

    fn next_value_seed<T: DeserializeSeed<'de>>(&mut self, seed: T) -> Result<T::Value, E> {
        let Some((key, value)) = self.value.take() else {
            return Err(E::custom("value requested before its key"));
        };
        let path = Path::Key(&self.path, key);
        seed.deserialize(ValueDe::new(value, path, self.track))
            .inspect_err(|_| self.track.record(path))
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.entries.len() - self.next)
    }
}

/// An unsigned integer field (`u32`), expected in words.
struct Count<V>(V);

impl<'de, V: Visitor<'de>> Visitor<'de> for Count<V> {
    type Value = V::Value;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a non-negative integer")
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<V::Value, E> {
        if v <= u64::from(u32::MAX) {
            self.0.visit_u64(v)
        } else {
            Err(E::invalid_value(Unexpected::Unsigned(v), &self))
        }
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<V::Value, E> {
        match u64::try_from(v) {
            Ok(v) => self.visit_u64(v),
            Err(_) => Err(E::invalid_value(Unexpected::Signed(v), &self)),
        }
    }
}

/// A float field, expected in words.
struct Number<V>(V);

impl<'de, V: Visitor<'de>> Visitor<'de> for Number<V> {
    type Value = V::Value;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a number")
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<V::Value, E> {
        self.0.visit_u64(v)
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<V::Value, E> {
        self.0.visit_i64(v)
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<V::Value, E> {
        self.0.visit_f64(v)
    }
}

/// The reader (`as AtLeastOne` in `params!`) of the integer parameters that must be >= 1
/// (`step_size`, `T_max`, ...): the same `u32`, with that rule in the message of a value of the
/// wrong type. Zero passes here and is reported by the kind's `validate`, with the kind's name.
pub(crate) struct AtLeastOne(pub(crate) u32);

impl<'de> Deserialize<'de> for AtLeastOne {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Rule;
        impl Visitor<'_> for Rule {
            type Value = u32;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an integer >= 1")
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<u32, E> {
                u32::try_from(v).map_err(|_| E::invalid_value(Unexpected::Unsigned(v), &self))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<u32, E> {
                u32::try_from(v).map_err(|_| E::invalid_value(Unexpected::Signed(v), &self))
            }
        }
        d.deserialize_any(Rule).map(AtLeastOne)
    }
}

/// A tagged type: `Spec`, `ChildSpec` or `LeafSpec`, read from an object whose `kind` is one of
/// `KINDS`.
pub(crate) trait Tagged: Sized {
    /// The accepted kinds, in the order of the error message.
    const KINDS: &'static [&'static str];
    /// Composite kinds that cannot be here: a `LeafSpec` is where nesting ends.
    const COMPOSITES: &'static [&'static str] = &[];
    /// Reads the parameters of `KINDS[kind]` from the rest of the object.
    fn parameters<'de, A: MapAccess<'de>>(kind: usize, map: A) -> Result<Self, A::Error>;
}

/// Reads a parameter struct (or checks there is none, for `Fixed`) from the rest of a map.
pub(crate) fn rest<'de, T: Deserialize<'de>, A: MapAccess<'de>>(map: A) -> Result<T, A::Error> {
    T::deserialize(MapAccessDeserializer::new(map))
}

/// `Fixed`: nothing may follow `kind`.
pub(crate) fn nothing_more<'de, A: MapAccess<'de>>(mut map: A) -> Result<(), A::Error> {
    match map.next_key::<String>()? {
        Some(k) => Err(de::Error::unknown_field(&k, &[])),
        None => Ok(()),
    }
}

/// `Deserialize` for a [`Tagged`] type.
pub(crate) fn tagged<'de, T: Tagged, D: Deserializer<'de>>(d: D) -> Result<T, D::Error> {
    d.deserialize_struct(TRACKED, &["kind"], Outer(PhantomData::<T>))
}

/// Reads `value` (an object) as `T`, then puts the path of an error in front of its message.
fn from_buffer<T: Tagged, E: de::Error>(value: &Value) -> Result<T, E> {
    let track = Track::default();
    ValueDe::<E>::new(value, Path::Root, &track)
        .deserialize_any(Dispatch::<T>(PhantomData, true))
        .map_err(|e| track.wrap(e))
}

fn buffer<'de, A: MapAccess<'de>>(
    mut map: A,
    mut entries: Vec<(String, Value)>,
) -> Result<Value, A::Error> {
    while let Some(k) = map.next_key::<String>()? {
        entries.push((k, map.next_value()?));
    }
    Ok(Value::Map(entries))
}

/// The outermost spec, from any deserializer: buffer and track.
struct Outer<T>(PhantomData<T>);

impl<'de, T: Tagged> Visitor<'de> for Outer<T> {
    type Value = T;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a schedule: an object with `kind` and the kind's parameters")
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<T, A::Error> {
        from_buffer(&buffer(map, Vec::new())?)
    }
    /// Already inside a tracked value: stream.
    fn visit_newtype_struct<D: Deserializer<'de>>(self, d: D) -> Result<T, D::Error> {
        d.deserialize_any(Dispatch::<T>(PhantomData, true))
    }
}

/// Reads `kind`, then the kind's parameters; `.1`: from a [`ValueDe`], which yields `kind`
/// first if there is one.
struct Dispatch<T>(PhantomData<T>, bool);

impl<'de, T: Tagged> Visitor<'de> for Dispatch<T> {
    type Value = T;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a schedule: an object with `kind` and the kind's parameters")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<T, A::Error> {
        match map.next_key::<String>()? {
            Some(k) if k == "kind" => match map.next_value_seed(Kind(T::KINDS, T::COMPOSITES))? {
                Ok(kind) => T::parameters(kind, map),
                // The object's error, so that its path (`schedulers[0].schedulers[1]`) is named.
                Err(composite) => Err(de::Error::custom(format_args!(
                    "`{composite}` cannot be nested here: composites nest two levels deep, so a composite inside another (or a WarmupLR's schedule) holds single schedulers"
                ))),
            },
            // Not first, from a deserializer other than ValueDe: buffer.
            Some(k) if !self.1 => {
                let first = map.next_value()?;
                from_buffer(&buffer(map, alloc::vec![(k, first)])?)
            }
            _ => Err(de::Error::missing_field("kind")),
        }
    }
}

/// The `kind` string, as its index in the accepted kinds (`.0`), or a composite kind of `.1`,
/// which is not accepted there.
struct Kind(&'static [&'static str], &'static [&'static str]);

impl<'de> DeserializeSeed<'de> for Kind {
    type Value = Result<usize, &'static str>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_str(self)
    }
}

impl Visitor<'_> for Kind {
    type Value = Result<usize, &'static str>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a schedule kind")
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        let v = crate::aliases::ALIASES
            .iter()
            .find(|(alias, _)| *alias == v)
            .map_or(v, |(_, kind)| kind);
        if let Some(i) = self.0.iter().position(|k| *k == v) {
            return Ok(Ok(i));
        }
        match self.1.iter().find(|k| **k == v) {
            Some(composite) => Ok(Err(composite)),
            None => Err(E::custom(UnknownKind(v, self.0))),
        }
    }
}

/// The message for an unknown `kind`, naming what is accepted there: for `library.name`, that
/// library's kinds (or, for a library sched-core lacks, the libraries it has); otherwise
/// PyTorch's and this crate's kinds, and the form of a library's.
struct UnknownKind<'a>(&'a str, &'static [&'static str]);

impl fmt::Display for UnknownKind<'_> {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        let UnknownKind(kind, accepted) = *self;
        fn library(k: &str) -> Option<&str> {
            k.split_once('.').map(|(lib, _)| lib)
        }
        let list = |f: &mut fmt::Formatter, keep: &dyn Fn(&str) -> bool| {
            for (i, k) in accepted.iter().filter(|k| keep(k)).enumerate() {
                write!(f, "{}`{k}`", if i == 0 { "" } else { ", " })?;
            }
            Ok(())
        };
        match kind.split_once('.') {
            Some((lib, _)) if accepted.iter().any(|k| library(k) == Some(lib)) => {
                write!(f, "unknown variant `{kind}`, expected one of {lib}'s: ")?;
                list(f, &|k| library(k) == Some(lib))
            }
            Some((lib, _)) => {
                write!(
                    f,
                    "unknown library `{lib}` in `{kind}`: the libraries here are "
                )?;
                let mut seen: Vec<&str> = Vec::new();
                for lib in accepted.iter().filter_map(|k| library(k)) {
                    if !seen.contains(&lib) {
                        write!(f, "{}`{lib}`", if seen.is_empty() { "" } else { ", " })?;
                        seen.push(lib);
                    }
                }
                f.write_str(" (a kind is `library.name`, e.g. `optax.sgdr_schedule`)")
            }
            None => {
                write!(f, "unknown variant `{kind}`, expected one of ")?;
                list(f, &|k| library(k).is_none())?;
                if accepted.iter().any(|k| library(k).is_some()) {
                    f.write_str(
                        ", or a library's kind, `library.name` (e.g. `optax.sgdr_schedule`)",
                    )?;
                }
                Ok(())
            }
        }
    }
}

/// An `lr_lambda` or `scale_fn` string without the `expr` feature.
#[cfg(not(feature = "expr"))]
pub(crate) fn no_expr<'de, D: Deserializer<'de>, T>(d: D) -> Result<T, D::Error> {
    struct NoExpr<T>(PhantomData<T>);
    impl<T> Visitor<'_> for NoExpr<T> {
        type Value = T;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("an expression")
        }
        fn visit_str<E: de::Error>(self, _: &str) -> Result<T, E> {
            Err(E::custom(
                "expressions need sched-core's `expr` feature (on by default)",
            ))
        }
    }
    d.deserialize_str(NoExpr(PhantomData))
}

/// `Spec::for_groups`: the spec of each of `groups` param groups, each per-group parameter
/// given as a list (PyTorch's `max_lr=[0.1, 0.01]`) replaced by the group's element.
pub(crate) fn group_specs<'de, D: Deserializer<'de>>(
    d: D,
    groups: usize,
) -> Result<Vec<crate::Spec>, D::Error> {
    // Read inside the deserializer's own map, as `Outer` does, so that an error carries the
    // position the deserializer adds (serde_json's "at line 1 column 65").
    d.deserialize_map(Groups(groups))
}

struct Groups(usize);

impl<'de> Visitor<'de> for Groups {
    type Value = Vec<crate::Spec>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a schedule: an object with `kind` and the kind's parameters")
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
        let value = buffer(map, Vec::new())?;
        (0..self.0)
            .map(|group| {
                let track = Track::default();
                let picked = pick_group(&value, group, self.0, Path::Root, &track)
                    .map_err(|e: A::Error| track.wrap(e))?;
                from_buffer(&picked)
            })
            .collect()
    }
}

/// `value` (a spec) for param group `group` of `groups`: recurses into child specs; a
/// per-group parameter's list must have one value per group.
fn pick_group<E: de::Error>(
    value: &Value,
    group: usize,
    groups: usize,
    path: Path<'_>,
    track: &Track,
) -> Result<Value, E> {
    let Value::Map(entries) = value else {
        return Ok(value.clone());
    };
    let kind = entries.iter().find_map(|(k, v)| match (k.as_str(), v) {
        ("kind", Value::Str(kind)) => Some(kind.as_str()),
        _ => None,
    });
    let kind = crate::aliases::ALIASES
        .iter()
        .find(|(alias, _)| Some(*alias) == kind)
        .map_or(kind, |(_, k)| Some(k));
    let params = crate::Spec::PARAMS
        .iter()
        .find(|(k, _)| Some(*k) == kind)
        .map_or(&[][..], |(_, params)| params);
    let mut picked = Vec::with_capacity(entries.len());
    for (key, v) in entries {
        let here = Path::Key(&path, key);
        let param = params.iter().find(|p| p.name == key);
        let v = match (param, v) {
            (Some(p), Value::Seq(items)) if p.per_group => match items.get(group) {
                Some(item) if items.len() == groups => item.clone(),
                _ => {
                    track.record(here);
                    return Err(E::custom(format_args!(
                        "expected {groups} values (one per param group), got {}",
                        items.len()
                    )));
                }
            },
            (Some(p), Value::Seq(items)) if p.ty == crate::schema::ParamType::Specs => {
                let children = items.iter().enumerate().map(|(i, child)| {
                    pick_group(child, group, groups, Path::Index(&here, i), track)
                });
                Value::Seq(children.collect::<Result<_, E>>()?)
            }
            (Some(p), child) if p.ty == crate::schema::ParamType::Spec => {
                pick_group(child, group, groups, here, track)?
            }
            (_, v) => v.clone(),
        };
        picked.push((key.clone(), v));
    }
    Ok(Value::Map(picked))
}
