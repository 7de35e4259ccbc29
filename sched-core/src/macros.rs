//! The one way the public parameter types are declared: `params!` for a kind's parameters (a
//! struct) and `choice!` for a string-valued argument (a fieldless enum). Each applies the same
//! derives (serde with unknown keys rejected, defmt) and, with `serde`, writes the value as Rust
//! source (`literal.rs`) for build scripts that embed specs (the firmware's golden table).

/// A parameter struct as Rust source, `sched_core::Name { field: value, ... }` (the body of its
/// `Literal::write`; `params!` and spec.rs's `composite!` both use it).
#[cfg(feature = "serde")]
macro_rules! write_struct_literal {
    ($out:ident, $value:expr, $name:ident, $($field:ident),*) => {{
        $out.write_str(concat!("sched_core::", stringify!($name), " { "))?;
        $(
            $out.write_str(concat!(stringify!($field), ": "))?;
            crate::literal::Literal::write(&$value.$field, $out)?;
            $out.write_str(", ")?;
        )*
        $out.write_str("}")
    }};
}

macro_rules! params {
    (
        $(#[$meta:meta])*
        pub struct $name:ident {
            $( $(#[$fmeta:meta])* pub $field:ident : $ty:ty ),* $(,)?
        }
    ) => {
        #[derive(Clone, Debug, PartialEq)]
        #[cfg_attr(
            feature = "serde",
            derive(serde::Serialize, serde::Deserialize),
            serde(deny_unknown_fields)
        )]
        #[cfg_attr(feature = "defmt", derive(defmt::Format))]
        $(#[$meta])*
        pub struct $name {
            $( $(#[$fmeta])* pub $field: $ty, )*
        }

        #[cfg(feature = "serde")]
        impl crate::literal::Literal for $name {
            fn write(&self, out: &mut dyn core::fmt::Write) -> core::fmt::Result {
                write_struct_literal!(out, self, $name, $($field),*)
            }
        }
    };
}

macro_rules! choice {
    (
        $(#[$meta:meta])*
        pub enum $name:ident {
            $( $(#[$vmeta:meta])* $variant:ident ),* $(,)?
        }
    ) => {
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        #[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
        #[cfg_attr(feature = "defmt", derive(defmt::Format))]
        $(#[$meta])*
        pub enum $name {
            $( $(#[$vmeta])* $variant, )*
        }

        #[cfg(feature = "serde")]
        impl crate::literal::Literal for $name {
            fn write(&self, out: &mut dyn core::fmt::Write) -> core::fmt::Result {
                write!(out, concat!("sched_core::", stringify!($name), "::{:?}"), self)
            }
        }
    };
}
