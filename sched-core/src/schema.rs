//! Every kind's parameters as data: names, how a form edits each, the reference's defaults, an
//! example for each required one, and a line of help. Each kind declares its rows in its own
//! file (`params!` derives them, with the default the spec reader fills in, from the one
//! declaration); [`Spec::PARAMS`](crate::Spec::PARAMS) lists them all, in `Spec::KINDS` order. The page generates its form
//! from this table; `tests/schema.rs` checks it against what serde fills in.

use core::fmt;
use heapless::Vec;

/// A default value, written as JSON by [`DefaultValue::write_json`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum DefaultValue {
    /// An f64 parameter.
    F64(f64),
    /// An f32 parameter.
    F32(f32),
    /// A u32 parameter.
    U32(u32),
    /// An optional u32 (`None` is JSON `null`).
    OptU32(Option<u32>),
    /// A flag.
    Bool(bool),
    /// The option at this index of the parameter's [`ParamType::Choice`].
    Choice(usize),
    /// JSON `null`.
    Null,
}

impl DefaultValue {
    /// The value as JSON text; `options` are the parameter's choices.
    pub fn write_json(self, options: &[&str], out: &mut dyn fmt::Write) -> fmt::Result {
        match self {
            // Display gives the shortest text that reads back as the same float.
            DefaultValue::F64(v) => write!(out, "{v}"),
            DefaultValue::F32(v) => write!(out, "{v}"),
            DefaultValue::U32(v) | DefaultValue::OptU32(Some(v)) => write!(out, "{v}"),
            DefaultValue::Bool(v) => write!(out, "{v}"),
            DefaultValue::Choice(i) => write!(out, "\"{}\"", options.get(i).copied().unwrap_or("")),
            DefaultValue::OptU32(None) | DefaultValue::Null => out.write_str("null"),
        }
    }
}

/// How the form edits a parameter (and how its text becomes JSON).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum ParamType {
    /// u32.
    Int,
    /// f32 or f64.
    Float,
    /// Checkbox.
    Bool,
    /// One of these strings.
    Choice(&'static [&'static str]),
    /// u32 or `null` (empty field).
    OptInt,
    /// f32 or `null` (empty field).
    OptFloat,
    /// List of u32, e.g. `2, 5, 9`.
    IntList,
    /// List of numbers, e.g. `0.1, 0.01`.
    FloatList,
    /// A JSON object of steps (as strings) to numbers, e.g. `{"100": 0.5}` (a Python dict
    /// with integer keys).
    StepMap,
    /// A Python lambda body (string).
    Expr,
    /// A Python lambda body or `null` (empty field).
    OptExpr,
    /// A JSON list of child specs.
    Specs,
    /// One JSON child spec.
    Spec,
}

impl ParamType {
    /// The page's name for it, e.g. `"opt_int"`.
    pub fn name(self) -> &'static str {
        match self {
            ParamType::Int => "int",
            ParamType::Float => "float",
            ParamType::Bool => "bool",
            ParamType::Choice(_) => "choice",
            ParamType::OptInt => "opt_int",
            ParamType::OptFloat => "opt_float",
            ParamType::IntList => "int_list",
            ParamType::FloatList => "float_list",
            ParamType::StepMap => "step_map",
            ParamType::Expr => "expr",
            ParamType::OptExpr => "opt_expr",
            ParamType::Specs => "specs",
            ParamType::Spec => "spec",
        }
    }
}

/// One constructor argument of a kind.
#[derive(Clone, Copy, Debug)]
pub struct Param {
    /// PyTorch's argument name (the spec key).
    pub name: &'static str,
    /// How the form edits it.
    pub ty: ParamType,
    /// PyTorch's default (a constant of [`defaults`](crate::defaults)); `None` when the
    /// argument is required.
    pub default: Option<DefaultValue>,
    /// The value the form starts with (JSON text): always for a required argument, and where
    /// the default alone does not build (OneCycleLR's `total_steps`).
    pub example: Option<&'static str>,
    /// One line of help.
    pub help: &'static str,
    /// Whether PyTorch takes a list here, one value per param group (OneCycleLR's `max_lr`):
    /// [`Spec::for_groups`](crate::Spec::for_groups) reads such a list.
    pub per_group: bool,
}

/// How a parameter's Rust type appears in the schema (`params!` reads it from the field's type).
pub(crate) trait SchemaType {
    const TYPE: ParamType;
}

/// A default value of type `T`, turned into a [`DefaultValue`] at compile time (each type's
/// `value` is a `const fn`; `choice!` adds its enum's).
pub(crate) struct Typed<T>(pub(crate) T);

macro_rules! schema_types {
    ($($ty:ty => $param:ident $(, $variant:ident)?;)*) => {
        $(
            impl SchemaType for $ty {
                const TYPE: ParamType = ParamType::$param;
            }
            $(
                impl Typed<$ty> {
                    pub(crate) const fn value(&self) -> DefaultValue {
                        DefaultValue::$variant(self.0)
                    }
                }
            )?
        )*
    };
}

schema_types! {
    u32 => Int, U32;
    f32 => Float, F32;
    f64 => Float, F64;
    bool => Bool, Bool;
    Option<u32> => OptInt, OptU32;
}

impl SchemaType for Option<f32> {
    const TYPE: ParamType = ParamType::OptFloat;
}

impl Typed<Option<f32>> {
    #[allow(dead_code)] // only the library families' kinds have such defaults
    pub(crate) const fn value(&self) -> DefaultValue {
        match self.0 {
            Some(v) => DefaultValue::F32(v),
            None => DefaultValue::Null,
        }
    }
}

impl<const N: usize> SchemaType for Vec<u32, N> {
    const TYPE: ParamType = ParamType::IntList;
}

impl<const N: usize> SchemaType for Vec<f32, N> {
    const TYPE: ParamType = ParamType::FloatList;
}

impl<const N: usize> SchemaType for Vec<f64, N> {
    const TYPE: ParamType = ParamType::FloatList;
}
