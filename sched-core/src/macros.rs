//! The one way the public parameter types are declared: `params!` for a kind's parameters (a
//! struct) and `choice!` for a string-valued argument (a fieldless enum).
//!
//! A kind's file is the one place that says its parameters: each field's first doc line is the
//! page's help, `= value` is the reference library's default (the spec reader fills an omitted
//! argument with it; the constructors, `with_defaults` and the page's form take it from the same
//! place), `as Reader` reads the value through a type whose message states the rule (`AtLeastOne`:
//! "an integer >= 1"), `#[spec = "T_max"]` is the spec key where the Rust field cannot be
//! PyTorch's name, `#[per_group = true]` marks an argument PyTorch also takes as a list, one
//! value per param group (`Spec::for_groups` reads it), and `=> "json"` is the example the page's
//! form starts an argument with. From
//! that one declaration `params!` derives the struct, its spec reader (serde, unknown keys
//! rejected), its rows of the schema table (`Kind::PARAMS`), `Kind::with_defaults(required...)`,
//! and, with `serde`, the value as Rust source (`literal.rs`) for build scripts that embed specs
//! (the firmware's golden table). A library's kinds start with `in library;`, the public module
//! they live in (`sched_core::transformers::WsdSchedule`).

/// A parameter struct as Rust source, `sched_core::Name { field: value, ... }` (the body of its
/// `Literal::write`; `params!` and spec.rs's `composite!` both use it).
#[cfg(feature = "serde")]
macro_rules! write_struct_literal {
    ($out:ident, $value:expr, $name:ident $(in $module:ident)?, $($field:ident),*) => {{
        $out.write_str(concat!("sched_core::", $(stringify!($module), "::",)? stringify!($name), " { "))?;
        $(
            $out.write_str(concat!(stringify!($field), ": "))?;
            crate::literal::Literal::write(&$value.$field, $out)?;
            $out.write_str(", ")?;
        )*
        $out.write_str("}")
    }};
}

/// A parameter's spec key: PyTorch's name where the Rust field cannot be it (`T_max`).
macro_rules! key {
    ($field:ident) => {
        stringify!($field)
    };
    ($field:ident, $key:literal) => {
        $key
    };
}

/// One field's row of the schema table (`schema::Param`).
macro_rules! schema_param {
    ($help:literal, $key:expr, $ty:ty, [$($default:expr)?], [$($example:expr)?], [$($per_group:literal)?]) => {
        crate::schema::Param {
            name: $key,
            ty: <$ty as crate::schema::SchemaType>::TYPE,
            default: schema_param!(@default $ty $(, $default)?),
            example: schema_param!(@example $($example)?),
            help: $help.trim_ascii(),
            per_group: false $(|| $per_group)?,
        }
    };
    (@default $ty:ty) => { None };
    (@default $ty:ty, $default:expr) => {
        Some(crate::schema::Typed::<$ty>($default).value())
    };
    (@example) => { None };
    (@example $example:expr) => { Some($example) };
}

/// `Kind::with_defaults`: collects the required fields (those without `= default`) as the
/// arguments, in declaration order.
macro_rules! with_defaults {
    (@go $name:ident [$($req:ident: $rty:ty,)*] [$($all:ident = $val:expr,)*]) => {
        /// A value with the required arguments (unchecked: `Scheduler::new` checks it) and
        /// the reference's defaults for the others.
        #[allow(clippy::too_many_arguments)]
        pub fn with_defaults($($req: $rty),*) -> Self {
            $name { $($all: $val,)* }
        }
    };
    (@go $name:ident [$($req:tt)*] [$($all:tt)*] $field:ident: $ty:ty = $default:expr; $($rest:tt)*) => {
        with_defaults!(@go $name [$($req)*] [$($all)* $field = $default,] $($rest)*);
    };
    (@go $name:ident [$($req:tt)*] [$($all:tt)*] $field:ident: $ty:ty; $($rest:tt)*) => {
        with_defaults!(@go $name [$($req)* $field: $ty,] [$($all)* $field = $field,] $($rest)*);
    };
}

/// The spec reader of a `params!` struct: what serde's derive with `deny_unknown_fields` reads,
/// with each omitted argument filled from its declared default.
#[cfg(feature = "serde")]
macro_rules! read_params {
    ($name:ident, $($field:ident $key:expr => $ty:ty, [$($read:ident)?], [$($default:expr)?];)*) => {
        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                const FIELDS: &[&str] = &[$($key),*];
                struct Fields;
                impl<'de> serde::de::Visitor<'de> for Fields {
                    type Value = $name;
                    fn expecting(&self, f: &mut core::fmt::Formatter) -> core::fmt::Result {
                        f.write_str(concat!("struct ", stringify!($name)))
                    }
                    fn visit_map<A: serde::de::MapAccess<'de>>(
                        self,
                        mut map: A,
                    ) -> Result<$name, A::Error> {
                        use serde::de::Error as _;
                        $(let mut $field: Option<$ty> = None;)*
                        while let Some(key) = map.next_key::<alloc::string::String>()? {
                            match key.as_str() {
                                $($key => {
                                    if $field.is_some() {
                                        return Err(A::Error::duplicate_field($key));
                                    }
                                    $field = Some(read_params!(@value map $ty $(, $read)?));
                                })*
                                other => return Err(A::Error::unknown_field(other, FIELDS)),
                            }
                        }
                        Ok($name {
                            $($field: read_params!(@fill $field, $key $(, $default)?),)*
                        })
                    }
                }
                d.deserialize_struct(stringify!($name), FIELDS, Fields)
            }
        }
    };
    (@value $map:ident $ty:ty) => { $map.next_value::<$ty>()? };
    (@value $map:ident $ty:ty, $read:ident) => { $map.next_value::<crate::de::$read>()?.0 };
    (@fill $field:ident, $key:expr) => {
        $field.ok_or_else(|| A::Error::missing_field($key))?
    };
    (@fill $field:ident, $key:expr, $default:expr) => { $field.unwrap_or_else(|| $default) };
}

macro_rules! params {
    (
        $(in $module:ident;)?
        $(#[$meta:meta])*
        pub struct $name:ident {
            $(
                #[doc = $help:literal]
                $(#[doc = $doc:literal])*
                $(#[spec = $key:literal])?
                $(#[per_group = $per_group:literal])?
                pub $field:ident : $ty:ty $(as $read:ident)? $(= $default:expr)? $(=> $example:expr)?
            ),* $(,)?
        }
    ) => {
        #[derive(Clone, Debug, PartialEq)]
        #[cfg_attr(feature = "serde", derive(serde::Serialize))]
        #[cfg_attr(feature = "defmt", derive(defmt::Format))]
        $(#[$meta])*
        pub struct $name {
            $(
                #[doc = $help] $(#[doc = $doc])*
                $(#[cfg_attr(feature = "serde", serde(rename = $key))])?
                pub $field: $ty,
            )*
        }

        impl $name {
            /// The schema's rows for this kind: each parameter's spec key, type, default,
            /// example and help, as declared here (`Spec::PARAMS` lists every kind's).
            pub const PARAMS: &'static [crate::schema::Param] = &[
                $( schema_param!($help, key!($field $(, $key)?), $ty, [$($default)?], [$($example)?], [$($per_group)?]), )*
            ];

            with_defaults!(@go $name [] [] $($field: $ty $(= $default)?;)*);
        }

        #[cfg(feature = "serde")]
        read_params!($name, $($field key!($field $(, $key)?) => $ty, [$($read)?], [$($default)?];)*);

        #[cfg(feature = "serde")]
        impl crate::literal::Literal for $name {
            fn write(&self, out: &mut dyn core::fmt::Write) -> core::fmt::Result {
                write_struct_literal!(out, self, $name $(in $module)?, $($field),*)
            }
        }
    };
}

macro_rules! choice {
    (
        $(in $module:ident;)?
        $(#[$meta:meta])*
        pub enum $name:ident {
            $( $(#[$vmeta:meta])* $variant:ident = $text:literal ),* $(,)?
        }
    ) => {
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        #[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
        #[cfg_attr(feature = "defmt", derive(defmt::Format))]
        $(#[$meta])*
        pub enum $name {
            $( $(#[$vmeta])* #[cfg_attr(feature = "serde", serde(rename = $text))] $variant, )*
        }

        impl $name {
            /// The spec's strings for the options, in declaration order.
            pub const OPTIONS: &'static [&'static str] = &[$($text),*];
        }

        impl crate::schema::SchemaType for $name {
            const TYPE: crate::schema::ParamType = crate::schema::ParamType::Choice($name::OPTIONS);
        }

        impl crate::schema::Typed<$name> {
            #[allow(dead_code)] // for a choice that no kind defaults
            pub(crate) const fn value(&self) -> crate::schema::DefaultValue {
                crate::schema::DefaultValue::Choice(self.0 as usize)
            }
        }

        #[cfg(feature = "serde")]
        impl crate::literal::Literal for $name {
            fn write(&self, out: &mut dyn core::fmt::Write) -> core::fmt::Result {
                write!(out, concat!("sched_core::", $(stringify!($module), "::",)? stringify!($name), "::{:?}"), self)
            }
        }
    };
}
