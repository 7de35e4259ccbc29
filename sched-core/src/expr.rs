//! Python lambda bodies such as `0.95 ** epoch` or `0.9 if epoch < 10 else 0.99`, compiled once
//! into a fixed-capacity postfix program and evaluated without allocation, in f64 as Python
//! evaluates it (in f32, `1 + cos(x)` near `x = pi` alone would cost 2e-5 of accuracy).
//!
//! Grammar (Python's precedence): `A if COND else B`; one comparison `< <= > >= == !=`;
//! `+ -`; `* / // %`; unary `-`; `**` (right-associative); numbers, the variable, `pi`, `e`,
//! parentheses and the functions `min max exp log sqrt cos sin tan tanh abs floor ceil`
//! (a `math.` prefix is accepted). Comparisons give 1.0 or 0.0.

use crate::Error;
use heapless::{String, Vec};

/// Most instructions an expression compiles to.
pub const MAX_OPS: usize = 32;
/// Most characters of expression source kept (for display and serialization).
pub const MAX_SOURCE: usize = 128;
const MAX_STACK: usize = 16;

#[derive(Clone, Copy, Debug, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
enum Op {
    Const(f64),
    Var,
    Neg,
    Add,
    Sub,
    Mul,
    Div,
    FloorDiv,
    Mod,
    Pow,
    Lt,
    Le,
    Gt,
    Ge,
    Eq,
    Ne,
    /// Pops `else`, `cond`, `then`.
    Select,
    Min,
    Max,
    Exp,
    Log,
    Sqrt,
    Cos,
    Sin,
    Tan,
    Tanh,
    Abs,
    Floor,
    Ceil,
}

/// A compiled expression in one variable.
#[derive(Clone, Debug, PartialEq)]
pub struct Expr {
    source: String<MAX_SOURCE>,
    ops: Vec<Op, MAX_OPS>,
}

impl Expr {
    /// Compiles `source`, an expression in the variable `var` (e.g. `"epoch"`).
    pub fn parse(source: &str, var: &str) -> Result<Self, Error> {
        let mut kept = String::new();
        kept.push_str(source)
            .map_err(|_| Error::InvalidExpression {
                position: MAX_SOURCE,
                reason: "longer than 128 characters",
            })?;
        let mut parser = Parser {
            src: source.as_bytes(),
            pos: 0,
            var: var.as_bytes(),
            ops: Vec::new(),
            depth: 0,
            max_depth: 0,
        };
        parser.ternary()?;
        parser.skip_space();
        if parser.pos != parser.src.len() {
            return Err(parser.error("unexpected text"));
        }
        if parser.max_depth > MAX_STACK {
            return Err(Error::InvalidExpression {
                position: 0,
                reason: "nested too deeply",
            });
        }
        Ok(Expr {
            source: kept,
            ops: parser.ops,
        })
    }

    /// The source text.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// Evaluates the expression at `x`.
    pub fn eval(&self, x: f64) -> f64 {
        let mut stack = [0.0f64; MAX_STACK];
        let mut len = 0usize;
        for op in &self.ops {
            // Compilation checked the depth, so these indexes stay in bounds; `get` keeps a
            // corrupted (deserialized) program from panicking.
            macro_rules! pop {
                () => {{
                    if len == 0 {
                        return f64::NAN;
                    }
                    len -= 1;
                    stack[len]
                }};
            }
            let value = match *op {
                Op::Const(c) => c,
                Op::Var => x,
                Op::Neg => -pop!(),
                Op::Exp => libm::exp(pop!()),
                Op::Log => libm::log(pop!()),
                Op::Sqrt => libm::sqrt(pop!()),
                Op::Cos => libm::cos(pop!()),
                Op::Sin => libm::sin(pop!()),
                Op::Tan => libm::tan(pop!()),
                Op::Tanh => libm::tanh(pop!()),
                Op::Abs => libm::fabs(pop!()),
                Op::Floor => libm::floor(pop!()),
                Op::Ceil => libm::ceil(pop!()),
                Op::Select => {
                    let otherwise = pop!();
                    let cond = pop!();
                    let then = pop!();
                    if cond != 0.0 {
                        then
                    } else {
                        otherwise
                    }
                }
                binary => {
                    let b = pop!();
                    let a = pop!();
                    match binary {
                        Op::Add => a + b,
                        Op::Sub => a - b,
                        Op::Mul => a * b,
                        Op::Div => a / b,
                        Op::FloorDiv => libm::floor(a / b),
                        // Python's modulo takes the sign of the divisor.
                        Op::Mod => a - b * libm::floor(a / b),
                        Op::Pow => pow(a, b),
                        Op::Lt => (a < b) as u8 as f64,
                        Op::Le => (a <= b) as u8 as f64,
                        Op::Gt => (a > b) as u8 as f64,
                        Op::Ge => (a >= b) as u8 as f64,
                        Op::Eq => (a == b) as u8 as f64,
                        Op::Ne => (a != b) as u8 as f64,
                        Op::Min => a.min(b),
                        _ => a.max(b),
                    }
                }
            };
            if len == MAX_STACK {
                return f64::NAN;
            }
            stack[len] = value;
            len += 1;
        }
        if len == 1 {
            stack[0]
        } else {
            f64::NAN
        }
    }
}

/// `a ** b`.
fn pow(a: f64, b: f64) -> f64 {
    libm::pow(a, b)
}

struct Parser<'a> {
    src: &'a [u8],
    pos: usize,
    var: &'a [u8],
    ops: Vec<Op, MAX_OPS>,
    depth: usize,
    max_depth: usize,
}

impl Parser<'_> {
    fn error(&self, reason: &'static str) -> Error {
        Error::InvalidExpression {
            position: self.pos,
            reason,
        }
    }

    fn emit(&mut self, op: Op) -> Result<(), Error> {
        // Track the evaluation stack depth so `eval` never overflows.
        match op {
            Op::Const(_) | Op::Var => self.depth += 1,
            Op::Neg
            | Op::Exp
            | Op::Log
            | Op::Sqrt
            | Op::Cos
            | Op::Sin
            | Op::Tan
            | Op::Tanh
            | Op::Abs
            | Op::Floor
            | Op::Ceil => {}
            Op::Select => self.depth -= 2,
            _ => self.depth -= 1,
        }
        self.max_depth = self.max_depth.max(self.depth);
        self.ops
            .push(op)
            .map_err(|_| self.error("too long: more than 32 operations"))
    }

    fn skip_space(&mut self) {
        while self.pos < self.src.len() && self.src[self.pos].is_ascii_whitespace() {
            self.pos += 1;
        }
    }

    fn peek(&mut self) -> Option<u8> {
        self.skip_space();
        self.src.get(self.pos).copied()
    }

    fn eat(&mut self, token: &str) -> bool {
        self.skip_space();
        let t = token.as_bytes();
        if self.src[self.pos..].starts_with(t) {
            let is_word = t[0].is_ascii_alphabetic();
            let next = self.src.get(self.pos + t.len()).copied();
            if is_word && next.is_some_and(|c| c.is_ascii_alphanumeric() || c == b'_') {
                return false;
            }
            self.pos += t.len();
            true
        } else {
            false
        }
    }

    fn ternary(&mut self) -> Result<(), Error> {
        self.comparison()?;
        if self.eat("if") {
            self.comparison()?;
            if !self.eat("else") {
                return Err(self.error("expected `else`"));
            }
            self.ternary()?;
            self.emit(Op::Select)?;
        }
        Ok(())
    }

    fn comparison(&mut self) -> Result<(), Error> {
        self.sum()?;
        let ops = [
            ("<=", Op::Le),
            (">=", Op::Ge),
            ("==", Op::Eq),
            ("!=", Op::Ne),
            ("<", Op::Lt),
            (">", Op::Gt),
        ];
        for (token, op) in ops {
            if self.eat(token) {
                self.sum()?;
                self.emit(op)?;
                for (token, _) in ops {
                    if self.eat(token) {
                        return Err(self.error("chained comparisons are not supported"));
                    }
                }
                break;
            }
        }
        Ok(())
    }

    fn sum(&mut self) -> Result<(), Error> {
        self.term()?;
        loop {
            if self.eat("+") {
                self.term()?;
                self.emit(Op::Add)?;
            } else if self.eat("-") {
                self.term()?;
                self.emit(Op::Sub)?;
            } else {
                return Ok(());
            }
        }
    }

    fn term(&mut self) -> Result<(), Error> {
        self.factor()?;
        loop {
            let op = if self.eat("**") {
                // `a ** b` is handled in `power`; seeing it here means `a * * b`.
                return Err(self.error("unexpected `**`"));
            } else if self.eat("//") {
                Op::FloorDiv
            } else if self.eat("*") {
                Op::Mul
            } else if self.eat("/") {
                Op::Div
            } else if self.eat("%") {
                Op::Mod
            } else {
                return Ok(());
            };
            self.factor()?;
            self.emit(op)?;
        }
    }

    fn factor(&mut self) -> Result<(), Error> {
        if self.eat("-") {
            self.factor()?;
            self.emit(Op::Neg)
        } else if self.eat("+") {
            self.factor()
        } else {
            self.power()
        }
    }

    fn power(&mut self) -> Result<(), Error> {
        self.atom()?;
        if self.eat("**") {
            self.factor()?;
            self.emit(Op::Pow)?;
        }
        Ok(())
    }

    fn atom(&mut self) -> Result<(), Error> {
        match self.peek() {
            None => Err(self.error("unexpected end")),
            Some(b'(') => {
                self.pos += 1;
                self.ternary()?;
                if !self.eat(")") {
                    return Err(self.error("expected `)`"));
                }
                Ok(())
            }
            Some(c) if c.is_ascii_digit() || c == b'.' => self.number(),
            Some(c) if c.is_ascii_alphabetic() || c == b'_' => self.name(),
            Some(_) => Err(self.error("unexpected character")),
        }
    }

    fn number(&mut self) -> Result<(), Error> {
        let start = self.pos;
        let digits = |p: &mut Self| {
            while p.pos < p.src.len() && (p.src[p.pos].is_ascii_digit() || p.src[p.pos] == b'_') {
                p.pos += 1;
            }
        };
        digits(self);
        if self.src.get(self.pos) == Some(&b'.') {
            self.pos += 1;
            digits(self);
        }
        if matches!(self.src.get(self.pos), Some(b'e' | b'E')) {
            self.pos += 1;
            if matches!(self.src.get(self.pos), Some(b'+' | b'-')) {
                self.pos += 1;
            }
            digits(self);
        }
        let text = core::str::from_utf8(&self.src[start..self.pos])
            .map_err(|_| self.error("bad number"))?;
        let mut clean: String<64> = String::new();
        for ch in text.chars().filter(|&c| c != '_') {
            clean.push(ch).map_err(|_| self.error("number too long"))?;
        }
        let value: f64 = clean.parse().map_err(|_| Error::InvalidExpression {
            position: start,
            reason: "bad number",
        })?;
        self.emit(Op::Const(value))
    }

    fn name(&mut self) -> Result<(), Error> {
        let start = self.pos;
        while self.pos < self.src.len()
            && (self.src[self.pos].is_ascii_alphanumeric()
                || self.src[self.pos] == b'_'
                || self.src[self.pos] == b'.')
        {
            self.pos += 1;
        }
        let mut name = &self.src[start..self.pos];
        if let Some(rest) = name.strip_prefix(b"math.") {
            name = rest;
        }
        if name == self.var {
            return self.emit(Op::Var);
        }
        match name {
            b"pi" => return self.emit(Op::Const(core::f64::consts::PI)),
            b"e" => return self.emit(Op::Const(core::f64::consts::E)),
            _ => {}
        }
        let unary = match name {
            b"exp" => Some(Op::Exp),
            b"log" => Some(Op::Log),
            b"sqrt" => Some(Op::Sqrt),
            b"cos" => Some(Op::Cos),
            b"sin" => Some(Op::Sin),
            b"tan" => Some(Op::Tan),
            b"tanh" => Some(Op::Tanh),
            b"abs" | b"fabs" => Some(Op::Abs),
            b"floor" => Some(Op::Floor),
            b"ceil" => Some(Op::Ceil),
            _ => None,
        };
        let variadic = match name {
            b"min" => Some(Op::Min),
            b"max" => Some(Op::Max),
            _ => None,
        };
        if unary.is_none() && variadic.is_none() {
            self.pos = start;
            return Err(self.error("unknown name: use the variable, pi, e, or min max exp log sqrt cos sin tan tanh abs floor ceil"));
        }
        if !self.eat("(") {
            return Err(self.error("expected `(` after a function name"));
        }
        self.ternary()?;
        let mut args = 1;
        while self.eat(",") {
            self.ternary()?;
            args += 1;
            if let Some(op) = variadic {
                self.emit(op)?;
            }
        }
        if !self.eat(")") {
            return Err(self.error("expected `)`"));
        }
        match (unary, args) {
            (Some(op), 1) => self.emit(op),
            (Some(_), _) => Err(self.error("this function takes one argument")),
            (None, 1) => Err(self.error("min and max take two or more arguments")),
            (None, _) => Ok(()),
        }
    }
}

#[cfg(feature = "serde")]
mod serde_impl {
    //! An expression is written as its source text; reading one compiles it. The variable
    //! name (`epoch` or `x`) is decided by the field, so these impls go through the wrappers
    //! in `lambda.rs` and `cyclic.rs`.
    use super::Expr;

    pub(crate) fn serialize<S: serde::Serializer>(expr: &Expr, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(expr.source())
    }

    pub(crate) fn deserialize<'de, D: serde::Deserializer<'de>>(
        d: D,
        var: &'static str,
    ) -> Result<Expr, D::Error> {
        struct Visit(&'static str);
        impl serde::de::Visitor<'_> for Visit {
            type Value = Expr;
            fn expecting(&self, f: &mut core::fmt::Formatter) -> core::fmt::Result {
                write!(
                    f,
                    "a Python expression in `{}`, e.g. \"0.95 ** {}\"",
                    self.0, self.0
                )
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Expr, E> {
                Expr::parse(v, self.0).map_err(E::custom)
            }
        }
        d.deserialize_str(Visit(var))
    }
}
#[cfg(feature = "serde")]
pub(crate) use serde_impl::{deserialize as deserialize_expr, serialize as serialize_expr};

#[cfg(test)]
mod tests {
    use super::*;

    fn eval(src: &str, x: f64) -> f64 {
        Expr::parse(src, "epoch").unwrap().eval(x)
    }

    #[test]
    fn python_precedence_and_functions() {
        assert_eq!(eval("0.95 ** epoch", 2.0), 0.95f64.powi(2));
        assert_eq!(eval("0.9 if epoch < 10 else 0.99", 3.0), 0.9);
        assert_eq!(eval("0.9 if epoch < 10 else 0.99", 10.0), 0.99);
        assert_eq!(eval("-2 ** 2", 0.0), -4.0);
        assert_eq!(eval("2 ** 3 ** 2", 0.0), 512.0);
        assert_eq!(eval("7 // 2 + 7 % 3", 0.0), 4.0);
        assert_eq!(eval("-7 % 3", 0.0), 2.0);
        assert_eq!(eval("min(1.0, (epoch + 1) / 5)", 1.0), 0.4);
        assert_eq!(eval("max(0.1, 0.2, epoch)", 0.0), 0.2);
        assert_eq!(eval("math.cos(math.pi * epoch)", 1.0), -1.0);
        assert_eq!(eval("1e-3 * 1_000", 0.0), 1.0);
        assert_eq!(
            eval(
                "a if epoch else b"
                    .replace('a', "1")
                    .replace('b', "2")
                    .as_str(),
                0.0
            ),
            2.0
        );
    }

    #[test]
    fn errors_point_at_the_problem() {
        let err = Expr::parse("0.95 ** epoc", "epoch").unwrap_err();
        assert_eq!(err, Error::InvalidExpression { position: 8, reason: "unknown name: use the variable, pi, e, or min max exp log sqrt cos sin tan tanh abs floor ceil" });
        assert!(Expr::parse("(1 + 2", "epoch").is_err());
        assert!(Expr::parse("1 < epoch < 3", "epoch").is_err());
        assert!(Expr::parse("", "epoch").is_err());
        assert!(Expr::parse("min(1)", "epoch").is_err());
        assert!(Expr::parse("1 +", "epoch").is_err());
        let deep = "((((((((((((((((((1))))))))))))))))))";
        assert!(Expr::parse(deep, "epoch").is_ok());
    }
}
